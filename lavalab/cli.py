"""The ``lavalab`` command line."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys

__all__ = ["main", "build_parser", "backends"]

INRC_HINT = (
    "not found: running on Loihi needs Intel's lava-loihi extension, distributed to members "
    "of the Intel Neuromorphic Research Community (INRC; join via "
    "https://www.intel.com/content/www/us/en/research/neuromorphic-community.html) "
    "and installed on an INRC Loihi system"
)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def loihi_installed() -> bool:
    """Whether Intel's lava-loihi extension is importable (Lava's own check)."""
    from lava.utils.loihi import is_installed


    return bool(is_installed())


def backends() -> dict[str, tuple[bool, str]]:
    """Which execution backends work here: name -> (available, detail)."""
    out: dict[str, tuple[bool, str]] = {}
    try:
        from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401

        out["lava-cpu"] = (True, "Lava CPU simulation (Loihi2SimCfg, fixed_pt and floating_pt)")
    except (ImportError, ValueError, OSError) as err:  # report why Lava is unavailable
        out["lava-cpu"] = (False, f"lava import failed: {type(err).__name__}: {err}")
    if out["lava-cpu"][0] and loihi_installed():
        out["loihi"] = (True, "lava-loihi found (Loihi2HwCfg)")
    else:
        out["loihi"] = (False, "lava-loihi " + INRC_HINT)
    return out


def _cmd_info(args: argparse.Namespace) -> int:
    rows = [
        ("lavalab", _version("lavalab")),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("lava-nc", _version("lava-nc")),
        ("lava-dl", _version("lava-dl")),
        ("torch", _version("torch")),
        ("numpy", _version("numpy")),
    ]
    from lavalab import _compat

    rows.append(("py3.11 lava fix", "active" if _compat.installed() else "not needed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("backends:")
    for name, (ok, detail) in backends().items():
        print(f"  {name:<9} {'yes' if ok else 'no ':<4} {detail}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from lavalab.demo import format_result, run_demo

    print(f"lavalab demo: {args.samples} MNIST test digits, Poisson input, {args.timesteps} "
          f"steps + {args.rest} rest each, 784 -> 10 LIF on Lava Loihi2SimCfg(fixed_pt)")
    res = run_demo(samples=args.samples, timesteps=args.timesteps, rest=args.rest,
                   seed=args.seed)
    print(format_result(res))
    return 0


def _positive(name: str, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer, got {text!r}") from None
        if not 1 <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name}={v} is outside 1..{hi}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lavalab",
        description="Loihi-targeted spiking neural networks on Lava.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    info = sub.add_parser("info", help="versions and available backends")
    info.set_defaults(func=_cmd_info)
    demo = sub.add_parser("demo", help="Lava fixed-point simulation of MNIST digits")
    demo.add_argument("--samples", type=_positive("--samples", 10000), default=30)
    demo.add_argument("--timesteps", type=_positive("--timesteps", 10000), default=150)
    demo.add_argument("--rest", type=int, default=50)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
