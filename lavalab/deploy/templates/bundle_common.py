"""What every lavalab deploy bundle's ``run.py`` shares: the bundle check (format, version,
SHA-256 of every file), Lava's Python 3.11 import fix, and the choice of the Loihi 2 host.

Part of a self-contained bundle written by ``lavalab deploy``; imports only the standard
library and, in :func:`select_host`, Lava.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

BUNDLE_FORMAT = "lavalab-loihi2-bundle"
BUNDLE_VERSION = 1
#: ``expected.json`` (written by ``lavalab deploy``) and ``results_<target>.json`` (this
#: run.py's record): their format names and versions
EXPECTED_FORMAT = "lavalab-bundle-expected"
EXPECTED_VERSION = 1
RESULTS_FORMAT = "lavalab-bundle-results"
RESULTS_VERSION = 1
#: files every bundle's manifest must vouch for (bundle.json: SHA-256 of each)
BUNDLE_FILES = ("run.py", "bundle_common.py", "network.json", "input.npz", "expected.npz",
                "expected.json", "partition.json", "README.md")
TARGETS = ("sim", "loihi2")
CHIP_GENERATIONS = ("N2A2", "N3B2", "N3B3", "N3C1", "N3D1")


class BundleError(ValueError):
    """The bundle cannot run as it is (one line for the user, exit code 2)."""


def install_py311_fix() -> None:
    """lava-nc 0.10 supports Python < 3.11: on 3.11 ``lava.magma.compiler.var_model`` fails
    to import (dataclass fields with an unhashable ``ByteEncoder()`` default). This hook
    rewrites those defaults to ``field(default_factory=ByteEncoder)`` in memory when that
    one module is imported (nothing on disk changes). On Python 3.10 it does nothing."""
    if sys.version_info < (3, 11):
        return
    import importlib.abc
    import importlib.machinery
    import importlib.util
    import re

    target = "lava.magma.compiler.var_model"
    pattern = re.compile(r"(?m)^(\s+\w+\s*:\s*ByteEncoder\s*=\s*)ByteEncoder\(\)\s*$")

    class Loader(importlib.machinery.SourceFileLoader):
        def get_code(self, fullname):
            path = self.get_filename(fullname)
            src = importlib.util.decode_source(self.get_data(path))
            src = pattern.sub(r"\1__import__('dataclasses').field(default_factory=ByteEncoder)",
                              src)
            return compile(src, path, "exec", dont_inherit=True)

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target_=None):
            if fullname != target:
                return None
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is None or not str(spec.origin).endswith(".py"):
                return None
            spec.loader = Loader(fullname, spec.origin)
            return spec

    if not any(type(f).__name__ == "Finder" and getattr(f, "lavalab_bundle", False)
               for f in sys.meta_path):
        finder = Finder()
        finder.lavalab_bundle = True
        sys.meta_path.insert(0, finder)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_bundle(folder: Path) -> dict:
    """The manifest ``bundle.json``, after checking its format, version and every file's
    SHA-256 (a damaged, edited or mixed bundle raises :class:`BundleError`)."""
    try:
        manifest = json.loads((folder / "bundle.json").read_text())
    except (OSError, ValueError) as err:
        raise BundleError(f"{folder}/bundle.json unreadable: {err}") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{folder}/bundle.json: damaged (not a JSON object)")
    if manifest.get("format") != BUNDLE_FORMAT or manifest.get("version") != BUNDLE_VERSION:
        raise BundleError(f"bundle.json: format {manifest.get('format')!r} version "
                          f"{manifest.get('version')!r}; this run.py reads {BUNDLE_FORMAT!r} "
                          f"version {BUNDLE_VERSION}")
    digest = manifest.pop("sha256", None)  # of its canonical JSON (lavalab.model_io)
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    if digest != hashlib.sha256(text.encode()).hexdigest():
        raise BundleError(f"{folder}/bundle.json: damaged or edited (its sha256 does not "
                          "match its content): rebuild with lavalab deploy")
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(manifest.get("sample_steps"), int):
        raise BundleError("bundle.json: no file list or sample_steps (damaged)")
    missing = sorted(set(BUNDLE_FILES) - set(files))
    if missing or not all(isinstance(d, str) and Path(n).name == n for n, d in files.items()):
        raise BundleError(f"bundle.json: damaged file list (missing {missing} or a name "
                          "that is not a plain file name)")
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{name} is missing from the bundle")
        if sha256(path) != digest:
            raise BundleError(f"{name} does not match bundle.json (damaged, edited or from "
                              "another bundle): rebuild with lavalab deploy")
    return manifest


def read_expected(folder: Path) -> dict:
    """``expected.json`` of the bundle, after checking its format and version (a file of
    another kind or version raises :class:`BundleError`)."""
    try:
        expected = json.loads((folder / "expected.json").read_text())
    except (OSError, ValueError) as err:
        raise BundleError(f"{folder}/expected.json unreadable: {err}") from None
    if (not isinstance(expected, dict) or expected.get("format") != EXPECTED_FORMAT
            or expected.get("version") != EXPECTED_VERSION):
        got = expected if not isinstance(expected, dict) else expected.get("format")
        raise BundleError(f"{folder}/expected.json: format {got!r}, this run.py reads "
                          f"{EXPECTED_FORMAT!r} version {EXPECTED_VERSION}: rebuild with "
                          "lavalab deploy")
    return expected


def select_host(args) -> None:
    """Point lava-loihi at the Loihi 2 system (environment of ``lava.utils.loihi``)."""
    from lava.utils import loihi

    if not loihi.is_installed():
        raise BundleError("--target loihi2 needs Intel's lava-loihi (lava.utils.loihi reports "
                          "it is not installed); it is available to INRC members")
    gen = loihi.ChipGeneration[args.loihi_gen or "N3B3"]
    if args.ethernet_host:
        loihi.use_ethernet_host(args.ethernet_host, host_binary_path=args.ethernet_binary
                                or "nxcore/bin/nx_driver_server",
                                loihi_gen=gen)
    else:
        loihi.use_slurm_host(partition=args.partition, board=args.board, loihi_gen=gen)


def runner_parser(doc: str) -> argparse.ArgumentParser:
    """The options every bundle's ``run.py`` takes: the target, the digits, a dry run, the
    Loihi 2 host and the results file (a runner adds its own, then calls
    :func:`check_runner_args`)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=TARGETS, default="sim")
    p.add_argument("--samples", type=int, default=None, help="first N digits (default all)")
    p.add_argument("--dry-run", action="store_true",
                   help="build the Processes and the run configuration, run nothing")
    p.add_argument("--partition", default=None, help="SLURM partition (e.g. oheogulch)")
    p.add_argument("--board", default=None, help="SLURM board (instead of --partition)")
    p.add_argument("--ethernet-host", default=None,
                   help="address of a directly attached Loihi 2 host (no SLURM)")
    p.add_argument("--ethernet-binary", default=None,
                   help="driver on the Ethernet host (default nxcore/bin/nx_driver_server)")
    p.add_argument("--loihi-gen", choices=CHIP_GENERATIONS, default=None,
                   help="chip generation (default N3B3)")
    p.add_argument("--out", default=None, help="results file (default results_<target>.json)")
    return p


def check_runner_args(p: argparse.ArgumentParser, args, chip_only: list[str] = ()) -> None:
    """Refuse (``p.error``: one line, exit 2) options that contradict each other, chip
    options (those of :func:`runner_parser` and the runner's ``chip_only`` flags given) with
    ``--target sim``, and an ``--out`` that cannot be written."""
    if args.partition and args.board:
        p.error("give --partition or --board, not both (lava.utils.loihi.use_slurm_host)")
    given = [f"--{d.replace('_', '-')}" for d in ("partition", "board", "ethernet_host",
                                                  "ethernet_binary", "loihi_gen")
             if getattr(args, d) is not None] + list(chip_only)
    if given and args.target != "loihi2":
        p.error(f"{', '.join(given)} applies to --target loihi2 only (target is "
                f"{args.target})")
    if args.ethernet_host and (args.partition or args.board):
        p.error("give --ethernet-host or --partition / --board, not both")
    if args.out is not None:
        out = Path(args.out)
        if not args.out.strip() or out.is_dir():
            p.error(f"--out {args.out!r} is not a file name")
        if not _writable(out.parent):
            p.error(f"--out {args.out}: folder {out.parent} is not a writable folder")


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried: permissions, read-only mounts)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
