"""Run configurations that know lavalab's ProcessModels.

Lava discovers ProcessModels only in the directory of a Process's own file.
lavalab keeps interface and behaviour apart (``processes/`` and ``procmodels/``),
so its models are found through these drop-in subclasses of Lava's run
configurations: use ``lavalab.backends.run_configs.Loihi2SimCfg`` where you would use
``lava.magma.core.run_configs.Loihi2SimCfg``. Selection by ``select_tag`` works
exactly as in Lava (``"floating_pt"`` or ``"fixed_pt"``); Lava's own Processes are
unaffected.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from functools import lru_cache

from lava.magma.core.model.model import AbstractProcessModel
from lava.magma.core.run_configs import Loihi2SimCfg as _LavaLoihi2SimCfg

__all__ = ["Loihi2SimCfg", "process_models"]


@lru_cache(maxsize=1)
def _registry() -> dict:
    import lavalab.procmodels as pkg

    reg: dict = {}
    for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            proc = getattr(cls, "implements_process", None)
            if (cls.__module__ == module.__name__ and proc is not None
                    and issubclass(cls, AbstractProcessModel)):
                reg.setdefault(proc, []).append(cls)
    return reg


def process_models(process_class) -> list:
    """lavalab's ProcessModels implementing ``process_class`` (empty for Lava's own)."""
    return list(_registry().get(process_class, []))


class _ModelMap(dict):
    """Lava's ``exception_proc_model_map`` that also answers for lavalab's Processes.

    Lava's compiler asks ``proc in map`` and ``map[proc]`` with the Process *instance*
    before its own (directory-based) model search. User entries keep precedence;
    for an instance of a lavalab Process the models are chosen among lavalab's with
    Lava's own selection rules (``select_tag``).
    """

    def __init__(self, cfg, user_map):
        super().__init__(user_map or {})
        self._cfg = cfg

    def _ours(self, key) -> list:
        if isinstance(key, type) or dict.__contains__(self, key):
            return []
        if dict.__contains__(self, type(key)):
            return []
        return process_models(type(key))

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or bool(self._ours(key))

    def __getitem__(self, key):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        ours = self._ours(key)
        if not ours:
            raise KeyError(key)
        model = _LavaLoihi2SimCfg.select(self._cfg, key, ours)
        want = getattr(model, "_precision", None)
        got = key.proc_params.get("precision", want)
        if want is not None and got != want:
            tag = "fixed_pt" if got == "fixed" else "floating_pt"
            raise ValueError(
                f"{type(key).__name__} {key.name!r} was built with {got}-precision parameters "
                f"but select_tag={self._cfg.select_tag!r} chose {model.__name__}: run it with "
                f"select_tag={tag!r}, or build it with {want}-precision parameters"
            )
        return model


class Loihi2SimCfg(_LavaLoihi2SimCfg):
    """Lava's ``Loihi2SimCfg`` (same arguments) that also finds lavalab's ProcessModels."""

    def __init__(self, custom_sync_domains=None, select_tag=None, select_sub_proc_model=False,
                 exception_proc_model_map=None, loglevel=logging.WARNING):
        super().__init__(custom_sync_domains=custom_sync_domains, select_tag=select_tag,
                         select_sub_proc_model=select_sub_proc_model,
                         exception_proc_model_map=exception_proc_model_map,
                         loglevel=loglevel)
        self.exception_proc_model_map = _ModelMap(self, exception_proc_model_map)
