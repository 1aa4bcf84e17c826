"""Python 3.11+ compatibility for lava-nc 0.10.0, without editing installed files.

lava-nc 0.10.0 supports Python <3.11. On 3.11, ``import lava.magma...`` fails
inside ``lava/magma/compiler/var_model.py``: three dataclasses use an instance
of the (unhashable) dataclass ``ByteEncoder`` as a field default, which Python
3.11's dataclass check rejects ("mutable default ... use default_factory").

:func:`install` registers an import hook for that one module only. When the
module is imported, its source is read from site-packages and, in memory,
each ``<name>: ByteEncoder = ByteEncoder()`` default becomes
``<name>: ByteEncoder = dataclasses.field(default_factory=ByteEncoder)`` on
the same line (tracebacks keep their line numbers). The compiled result is
not written to ``__pycache__``, so nothing on disk changes. On Python 3.10
(where lava imports as it is) and for a lava version that no longer has the
pattern, the hook changes nothing.

Semantics: on 3.10 all instances share one default ``ByteEncoder``; with the
hook each instance gets its own. These encoders describe Loihi hardware
register layouts and are never mutated by the CPU simulator.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys

__all__ = ["install", "installed", "patch_source", "PATCHED_MODULE"]

PATCHED_MODULE = "lava.magma.compiler.var_model"

_DEFAULT_RE = re.compile(r"(?m)^(\s+\w+\s*:\s*ByteEncoder\s*=\s*)ByteEncoder\(\)\s*$")
_REPLACEMENT = r"\1__import__('dataclasses').field(default_factory=ByteEncoder)"


def patch_source(source: str) -> str:
    """Return *source* with every ``ByteEncoder()`` field default made a factory."""
    return _DEFAULT_RE.sub(_REPLACEMENT, source)


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    """Source loader that compiles the patched source and never caches bytecode."""

    def get_code(self, fullname):  # noqa: D102 (importlib API)
        path = self.get_filename(fullname)
        source = importlib.util.decode_source(self.get_data(path))
        return compile(patch_source(source), path, "exec", dont_inherit=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # noqa: D102 (importlib API)
        if fullname != PATCHED_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return None
        spec.loader = _PatchingLoader(fullname, spec.origin)
        return spec


_FINDER = _Finder()


def needed() -> bool:
    """True on Python versions whose dataclass check rejects lava 0.10's defaults."""
    return sys.version_info >= (3, 11)


def install() -> None:
    """Register the import hook (idempotent; does nothing on Python < 3.11)."""
    if needed() and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def installed() -> bool:
    """Whether the hook is active in this interpreter."""
    return _FINDER in sys.meta_path
