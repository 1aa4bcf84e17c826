"""``lavalab info``: versions, the execution backends that work here, and how a model
reaches a Loihi 2 chip (``lavalab deploy``)."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys

__all__ = ["add_parser", "backends"]


def add_parser(sub) -> None:
    """Register ``lavalab info``."""
    info = sub.add_parser("info", help="versions and available backends")
    info.set_defaults(func=_cmd_info)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def backends() -> dict[str, tuple[bool, str]]:
    """Which execution backends work here: name -> (available, detail)."""
    from lavalab.backends import INRC_HINT, loihi_available

    out: dict[str, tuple[bool, str]] = {}
    try:
        from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401

        out["lava-cpu"] = (True, "Lava CPU simulation (Loihi2SimCfg, fixed_pt and floating_pt)")
    except (ImportError, ValueError, OSError) as err:  # report why Lava is unavailable
        out["lava-cpu"] = (False, f"lava import failed: {type(err).__name__}: {err}")
    if out["lava-cpu"][0] and loihi_available():
        out["loihi"] = (True, "lava-loihi found (Loihi2HwCfg; models reach the chip as a "
                        "deploy bundle)")
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
    print("deploy to Loihi 2: lavalab deploy MODEL --out BUNDLE, then python BUNDLE/run.py "
          "--target sim here, --target loihi2 on the INRC system (no lavalab needed there; "
          "docs/deploy.md)")
    return 0
