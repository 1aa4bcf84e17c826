"""Damaged copies of every file lavalab reads back, each given to the command that reads it:
the command exits 2 with one line naming the file (no traceback), or, where the damage
left the content intact (a flipped bit in a zip header's timestamp), it succeeds and reads
exactly what the intact file holds: never a crash, never a silently wrong result.

The files come from real tiny runs (one module fixture): an STDP model and a checkpoint of
an interrupted training, a timestep study, a dl (SLAYER) model with its checkpoint and its
NIR export, an exact-time network with its checkpoint and results, and a deploy bundle.
Damage: truncation at several fractions, bit flips at positions from fixed seeds, zero
bytes, a foreign file of the same extension, a valid file of another kind, and a
consistent-looking file with a wrong-shaped array. The default suite tries a few of each;
``-m slow`` tries every fraction and seed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lavalab import model_io
from lavalab.cli import main

TINY = ["--network", "tinysnn", "--neurons", "5", "--timesteps", "20", "--rest", "5",
        "--dataset", "digits", "--assign-samples", "6", "--quiet"]
TRAIN = ["train", *TINY, "--samples", "6", "--checkpoint-every", "3", "--input-gain", "4"]
STUDY = ["study", "timesteps", "--dataset", "digits", "--neurons", "5", "--train-samples",
         "12", "--test-samples", "6", "--assign-samples", "6", "--quiet", "--workers", "1",
         "--timesteps", "20,10", "--enhancement", "linear"]
DL = ["dl", "train", "--hidden", "8", "--train-samples", "64", "--epochs", "1",
      "--batch-size", "32", "--quiet"]
EXACT = ["exact", "train", "--dataset", "digits", "--hidden", "12", "--thresholds",
         "0.05,0.3", "--train-samples", "40", "--test-samples", "20", "--batch-size", "20",
         "--dt", "0.005", "--quiet"]

FRACTIONS = (0.5,)
FLIP_SEEDS = (0,)
SLOW_FRACTIONS = (0.01, 0.1, 0.25, 0.75, 0.9, 0.999)
SLOW_FLIP_SEEDS = tuple(range(1, 13))


def _cli(argv) -> tuple[int, str]:
    """``lavalab ARGV`` in this process: (exit code, stderr)."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as e:
            rc = e.code
    return rc, err.getvalue()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Every file kind, from real tiny runs."""
    import lavalab.stdp.scoring as scoring

    root = tmp_path_factory.mktemp("made")
    f = {"root": root}
    assert _cli([*TRAIN, "--out", root / "stdp"])[0] == 0
    f["stdp_model"] = root / "stdp" / "model.npz"
    real, calls = scoring.run, {"n": 0}

    def flaky(*a, **k):  # the second chunk never finishes: a checkpoint after the first
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "run", flaky)
        assert _cli([*TRAIN, "--out", root / "ck"])[0] == 130  # Ctrl-C: exit 130
    f["stdp_checkpoint"] = root / "ck" / "checkpoint.npz"
    assert _cli([*STUDY, "--out", root / "study"])[0] == 0
    f["study_results"] = root / "study" / "results.json"
    import lavalab.supervised.train as sup_train

    def killed(*a, **k):  # after the last epoch's checkpoint, before the model
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:  # a finished run removes its checkpoint
        mp.setattr(sup_train, "save_model", killed)
        assert _cli([*DL, "--out", root / "dl-ck.npz"])[0] == 130
    assert _cli([*DL, "--out", root / "dl.npz"])[0] == 0
    f["dl_model"], f["dl_checkpoint"] = root / "dl.npz", root / "dl-ck.npz.ckpt"
    assert _cli(["export", root / "dl.npz", "--format", "nir", "--out", root / "dl.nir"])[0] \
        == 0
    f["nir"] = root / "dl.nir"
    assert _cli(["export", root / "stdp", "--format", "nir", "--out", root / "stdp.nir"])[0] \
        == 0
    assert _cli([*EXACT, "--out", root / "exact"])[0] == 0
    f["exact_network"] = root / "exact" / "network.npz"
    f["exact_checkpoint"] = root / "exact" / "checkpoint.npz"
    f["exact_results"] = root / "exact" / "results.json"
    assert _cli(["deploy", root / "stdp", "--out", root / "bundle", "--samples", "2"])[0] == 0
    f["bundle"] = root / "bundle"
    for p in f.values():
        assert p.exists(), p
    return f


# --- the commands that read each kind ---------------------------------------------------

def _copy_dir_with(src_file: Path, tmp: Path, data: bytes) -> Path:
    """A copy of ``src_file``'s folder in ``tmp`` with ``data`` as that file."""
    dst = tmp / "copy" / src_file.parent.name
    shutil.copytree(src_file.parent, dst)
    (dst / src_file.name).write_bytes(data)
    return dst / src_file.name


def _run_bundle(folder: Path) -> tuple[int, str]:
    """The bundle's ``run.py --target sim --dry-run`` in this process, up to the point
    where it would start Lava (everything it reads from the bundle is read by then)."""
    import contextlib
    import io

    spec = importlib.util.spec_from_file_location(f"run_{id(folder)}", folder / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    class Reached(Exception):
        pass

    def build_graph(folder, *a, **k):  # what build_graph reads, without Lava
        sys.path.insert(0, str(folder))
        try:
            sn = importlib.util.spec_from_file_location(f"sn_{id(folder)}",
                                                        folder / "stock_network.py")
            net = importlib.util.module_from_spec(sn)
            sn.loader.exec_module(net)
            net.load_network(folder)
            mod.load_input(folder, None)
        finally:
            sys.path.remove(str(folder))
        raise Reached

    mod.build_graph = build_graph
    mod.install_py311_fix = lambda: None
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            rc = mod.main(["--target", "sim", "--dry-run"])
        except Reached:
            rc = 0
    return rc, err.getvalue()


@dataclass(frozen=True)
class Kind:
    """A file kind: where the fixture made it and how a command reads a copy."""

    name: str
    key: str  # of the fixture's dict (a bundle file: "bundle/<name>")

    def source(self, made) -> Path:
        if self.key.startswith("bundle/"):
            return made["bundle"] / self.key.split("/", 1)[1]
        return made[self.key]

    def read(self, made, path: Path, tmp: Path) -> tuple[int, str]:
        """Run the reading command on ``path`` (a damaged copy, placed as the command
        needs it); (exit code, stderr)."""
        k = self.key
        if k == "stdp_model":
            return _cli(["evaluate", path, "--samples", "3", "--no-plots", "--out", tmp / "e"])
        if k == "stdp_checkpoint":
            return _cli([*TRAIN, "--out", path.parent])
        if k == "study_results":
            return _cli(["study", "refresh", path.parent])
        if k == "dl_model":
            return _cli(["dl", "export", path, "--out", tmp / "y.net"])
        if k == "dl_checkpoint":
            return _cli([*DL, "--out", tmp / "m2.npz", "--checkpoint", path])
        if k == "nir":
            return _cli(["import", path, "--dt", "0.0001", "--out", tmp / "imp.npz"])
        if k == "exact_network":
            return _cli(["exact", "lava", "--model", path, "--dt", "0.005", "--dataset",
                         "digits", "--samples", "5", "--lava-samples", "0", "--quiet",
                         "--out", tmp / "br"])
        if k in ("exact_checkpoint", "exact_results"):
            return _cli([*EXACT, "--out", path.parent])
        return _run_bundle(path.parent)

    def place(self, made, data: bytes, tmp: Path) -> Path:
        """Where the damaged ``data`` goes: a copy of the folder when the command reads the
        file from its folder, else a lone file."""
        src = self.source(made)
        tmp.mkdir(parents=True, exist_ok=True)
        if self.key in ("stdp_checkpoint", "study_results", "exact_checkpoint",
                        "exact_results") or self.key.startswith("bundle/"):
            return _copy_dir_with(src, tmp, data)
        p = tmp / src.name
        p.write_bytes(data)
        return p


KINDS = [Kind("STDP model", "stdp_model"), Kind("STDP checkpoint", "stdp_checkpoint"),
         Kind("study results", "study_results"), Kind("dl model", "dl_model"),
         Kind("dl checkpoint", "dl_checkpoint"), Kind("NIR graph", "nir"),
         Kind("exact network", "exact_network"),
         Kind("exact checkpoint", "exact_checkpoint"),
         Kind("exact results", "exact_results")] + [
    Kind(f"bundle {n}", f"bundle/{n}") for n in (
        "bundle.json", "network.json", "network.npz", "input.npz", "expected.npz",
        "expected.json", "partition.json", "stock_network.py")]
IDS = [k.key for k in KINDS]


# --- what a damaged file may give -----------------------------------------------------

def _decode(kind: Kind, path: Path):
    """The content of a file of ``kind`` as a comparable value (raises if unreadable)."""
    suffix = path.suffix
    if suffix == ".json":
        return json.loads(path.read_text())
    if suffix == ".nir":
        import nir

        g = nir.read(path)
        return {n: {a: np.asarray(v).tolist() for a, v in vars(node).items()
                    if isinstance(v, (np.ndarray, float, int))}
                for n, node in g.nodes.items()}, sorted(map(tuple, g.edges))
    if suffix in (".npz", ".ckpt"):
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k].tolist() for k in z.files}
    return path.read_bytes()


#: what libraries print on stderr when imported (not an error of the command)
LIBRARY_NOTICES = ("No CUDA runtime is found", "WARNING: Prophesee", "Only Prophesee",
                   "Please install it from")


def _refused_or_intact(kind: Kind, made, data: bytes, tmp: Path, what: str) -> None:
    path = kind.place(made, data, tmp)
    side = tmp / ("as-given" + path.suffix)  # the command may replace or remove the file
    side.write_bytes(data)
    rc, err = kind.read(made, path, tmp)
    lines = [ln for ln in err.splitlines()
             if ln.strip() and not ln.strip().startswith(LIBRARY_NOTICES)]
    assert "Traceback" not in err, (kind.name, what, err)
    if rc == 0:  # only when the damage left the content as it was
        assert _decode(kind, side) == _decode(kind, kind.source(made)), (kind.name, what)
        return
    assert rc == 2, (kind.name, what, rc, err)
    assert len(lines) == 1, (kind.name, what, err)
    assert path.name in lines[0], (kind.name, what, lines[0])


def _flip(data: bytes, seed: int) -> bytes:
    b = bytearray(data)
    rng = np.random.default_rng(seed)
    pos = int(rng.integers(len(b)))
    b[pos] ^= 1 << int(rng.integers(8))
    return bytes(b)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_truncated_flipped_and_empty(made, kind, tmp_path):
    data = kind.source(made).read_bytes()
    cases = [("zero bytes", b"")]
    cases += [(f"truncated at {f:g}", data[:int(len(data) * f)]) for f in FRACTIONS]
    cases += [(f"bit flip seed {s}", _flip(data, s)) for s in FLIP_SEEDS]
    for i, (what, bad) in enumerate(cases):
        _refused_or_intact(kind, made, bad, tmp_path / str(i), what)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_truncated_and_flipped_everywhere(made, kind, tmp_path):
    data = kind.source(made).read_bytes()
    cases = [(f"truncated at {f:g}", data[:int(len(data) * f)]) for f in SLOW_FRACTIONS]
    cases += [(f"bit flip seed {s}", _flip(data, s)) for s in SLOW_FLIP_SEEDS]
    for i, (what, bad) in enumerate(cases):
        _refused_or_intact(kind, made, bad, tmp_path / str(i), what)


def _foreign(path: Path, tmp: Path) -> bytes:
    """A file of the same extension that lavalab never wrote."""
    p = tmp / ("foreign" + path.suffix)
    if path.suffix in (".npz", ".ckpt"):
        with open(p, "wb") as fh:
            np.savez(fh, a=np.arange(6).reshape(2, 3))
    elif path.suffix == ".json":
        p.write_text(json.dumps({"format": "something-else", "rows": [1, 2]}))
    elif path.suffix == ".nir":
        import h5py

        with h5py.File(p, "w") as h:
            h.create_dataset("x", data=np.arange(4))
    else:
        p.write_text("print('not the bundle file')\n")
    return p.read_bytes()


#: for each kind, a valid file of another kind (the fixture's key) given in its place
OTHER = {"stdp_model": "stdp_checkpoint", "stdp_checkpoint": "stdp_model",
         "study_results": "exact_results", "dl_model": "stdp_model",
         "dl_checkpoint": "dl_model", "nir": "stdp_nir", "exact_network": "exact_checkpoint",
         "exact_checkpoint": "exact_network", "exact_results": "study_results",
         "bundle/bundle.json": "bundle/expected.json",
         "bundle/network.json": "bundle/partition.json",
         "bundle/network.npz": "bundle/input.npz", "bundle/input.npz": "bundle/expected.npz",
         "bundle/expected.npz": "bundle/network.npz",
         "bundle/expected.json": "bundle/network.json",
         "bundle/partition.json": "bundle/expected.json",
         "bundle/stock_network.py": "bundle/host_io.py"}


def _other(made, key: str) -> bytes:
    if key == "stdp_nir":
        return (made["root"] / "stdp.nir").read_bytes()
    if key.startswith("bundle/"):
        return (made["bundle"] / key.split("/", 1)[1]).read_bytes()
    return made[key].read_bytes()


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_foreign_and_other_kind(made, kind, tmp_path):
    foreign = _foreign(kind.source(made), tmp_path)
    _refused_or_intact(kind, made, foreign, tmp_path / "f", "a foreign file")
    _refused_or_intact(kind, made, _other(made, OTHER[kind.key]), tmp_path / "o",
                       f"a valid {OTHER[kind.key]} file")


def _resave_npz(src: Path, fmt: str, edit) -> bytes:
    meta, arrays = model_io.load_npz(src, fmt)
    meta = {k: v for k, v in meta.items() if k not in ("format", "version")}
    edit(meta, arrays)
    out = src.parent / "_wrong.npz"
    model_io.save_npz(out, fmt, meta, arrays)
    data = out.read_bytes()
    out.unlink()
    return data


def _wrong_shape(made, kind: Kind, tmp: Path) -> bytes:
    """A file that looks like ``kind`` (format, version, every entry, a valid digest) with
    one array or list of the wrong shape."""
    from lavalab.exact.train import CHECKPOINT_FORMAT as EX_CK
    from lavalab.exact.train import NETWORK_FORMAT as EX_NET
    from lavalab.supervised.train import CHECKPOINT_FORMAT as DL_CK
    from lavalab.supervised.train import MODEL_FORMAT as DL_MODEL

    src, k = kind.source(made), kind.key

    def widen(name):
        def edit(meta, a):
            a[name] = np.concatenate([a[name], a[name][..., :1]], axis=-1)
        return edit
    if k == "stdp_model":
        return _resave_npz(src, model_io.MODEL_FORMAT, widen("w"))
    if k == "stdp_checkpoint":
        return _resave_npz(src, model_io.CHECKPOINT_FORMAT, widen("w"))
    if k == "dl_model":
        name = next(n for n in np.load(src).files if n.endswith("weight"))
        return _resave_npz(src, DL_MODEL, widen(name))
    if k == "dl_checkpoint":
        name = next(n for n in np.load(src).files if n.startswith("model/") and
                    n.endswith("weight"))
        return _resave_npz(src, DL_CK, widen(name))
    if k == "exact_network":
        return _resave_npz(src, EX_NET, widen("W0"))
    if k == "exact_checkpoint":
        return _resave_npz(src, EX_CK, widen("m1"))
    if k in ("study_results", "exact_results"):
        doc = json.loads(src.read_text())
        rows = doc["runs"] if "runs" in doc else doc["rows"]
        rows[0] = [rows[0]]  # a row that is a list
        p = tmp / "wrong.json"
        model_io.write_json(p, doc, digest=True)
        return p.read_bytes()
    if k == "nir":
        import nir

        g = nir.read(src)
        first = next(n for n, v in g.nodes.items() if hasattr(v, "weight"))
        g.nodes[first].weight = np.asarray(g.nodes[first].weight)[:, :-1]
        p = tmp / "wrong.nir"
        nir.write(p, g)
        return p.read_bytes()
    if k == "bundle/network.npz":
        with np.load(src) as z:
            a = {n: z[n] for n in z.files}
        n = next(iter(x for x in a if x.endswith(".weights")))
        a[n] = a[n][:, :-1]
        p = tmp / "wrong.npz"
        np.savez_compressed(p, **a)
        return p.read_bytes()
    if k.endswith(".json"):
        doc = json.loads(src.read_text())
        first = next(iter(doc))
        doc[first] = [doc[first]]
        return (json.dumps(doc, indent=1) + "\n").encode()
    if k.endswith(".npz"):
        with np.load(src) as z:
            a = {n: z[n] for n in z.files}
        first = next(iter(a))
        a[first] = np.atleast_1d(a[first])[..., :-1] if np.ndim(a[first]) else a[first]
        p = tmp / "wrong.npz"
        np.savez_compressed(p, **a)
        return p.read_bytes()
    return src.read_bytes() + b"\nINPUT = 'other'\n"


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_wrong_shaped_contents(made, kind, tmp_path):
    (tmp_path / "w").mkdir()
    bad = _wrong_shape(made, kind, tmp_path / "w")
    _refused_or_intact(kind, made, bad, tmp_path / "x", "a wrong-shaped array")


def test_intact_copies_are_read(made, tmp_path):
    """The reference: each command succeeds on an intact copy (so a refusal above is the
    damage's doing)."""
    for i, kind in enumerate(KINDS):
        if kind.key.startswith("bundle/") and i > 0 and KINDS[i - 1].key.startswith("bundle/"):
            continue  # one bundle copy is enough
        t = tmp_path / str(i)
        t.mkdir()
        path = kind.place(made, kind.source(made).read_bytes(), t)
        rc, err = kind.read(made, path, t)
        assert rc == 0, (kind.name, err)
