"""The committed study results are publishable as they are: no machine paths in them, and
every JSON record (studies/results and bench) names its format and version."""

import json
import re
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "studies" / "results"
BENCH = RESULTS.parents[1] / "bench"
TEXT = {".json", ".csv", ".md", ".py", ".txt"}
# an absolute path of the machine a study ran on: /tmp/..., /work/..., /home/..., /root/...
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:tmp|work|home|root|Users|mnt|scratch)/")


def test_no_machine_paths_in_committed_results():
    files = [p for p in RESULTS.rglob("*") if p.suffix in TEXT] + sorted(BENCH.glob("*.json"))
    assert files, RESULTS
    bad = [f"{p.relative_to(RESULTS.parents[1])}:{i}" for p in files
           for i, line in enumerate(p.read_text().splitlines(), 1) if MACHINE_PATH.search(line)]
    assert not bad, bad


def test_the_pattern_catches_a_machine_path():
    assert MACHINE_PATH.search('"model": "/tmp/i14/runs/t1.npz"')
    assert not MACHINE_PATH.search('"model": "runs/t1.npz"')


# Every committed JSON record names its kind and version, so that a reader can refuse a
# foreign or outdated file in one line instead of trusting it.
ROOT = RESULTS.parents[1]
BENCH = ROOT / "bench"
# file name -> the format its producer writes (studies/*.py, bench/*.py, lavalab's writers)
KINDS = [
    (r"results\.json", "lavalab-study"),  # lavalab.study.store
    (r"(curve|scaling)\.json", "lavalab.scaling/1"),  # studies/scaling.py
    (r"deploy-(agreement|lava-check)\.json", "lavalab-deploy-agreement"),  # deploy_agreement
    (r".*_eval(_full_test)?\.json", "lavalab-eval-report"),  # lavalab evaluate
    (r".*_expected\.json", "lavalab-bundle-expected"),  # lavalab deploy
    (r".*_results_sim\.json", "lavalab-bundle-results"),  # a bundle's run.py
    (r"bridge\.json", "lavalab-bridge-report"),  # lavalab exact lava
    (r"lava_check_.*\.json", "lavalab-dl-lava-check"),  # studies/dl_lava_check.py
    (r"backends\.json", "lavalab-bench-backends"),  # bench/backends.py
    (r"nir_interop\.json", "lavalab-bench-nir-interop"),  # bench/nir_interop.py
    (r"workload\.json", "lavalab-bench-workload"),  # bench/workload.py
]


def _committed_json() -> list[Path]:
    return sorted(RESULTS.rglob("*.json")) + sorted(BENCH.rglob("*.json"))


def _problem(doc) -> str | None:
    """What is missing from a committed record's header (None: a string ``format`` and an
    int ``version``)."""
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}, not an object with format and version"
    fmt, ver = doc.get("format"), doc.get("version")
    if not isinstance(fmt, str) or not fmt:
        return f"format {fmt!r} (a non-empty string is needed)"
    if isinstance(ver, bool) or not isinstance(ver, int):  # True is an int, not a version
        return f"version {ver!r} (an int is needed)"
    return None


def test_every_committed_json_names_its_format_and_version():
    files = _committed_json()
    assert len(files) > 40, files
    bad = [f"{p.relative_to(ROOT)}: {msg}" for p in files
           if (msg := _problem(json.loads(p.read_text())))]
    assert not bad, "\n".join(bad)


def test_committed_json_formats_are_their_writers():
    from lavalab import model_io
    from lavalab.deploy import bundle
    from lavalab.study import store

    assert (bundle.EXPECTED_FORMAT, bundle.RESULTS_FORMAT) == (
        "lavalab-bundle-expected", "lavalab-bundle-results")
    versions = {"lavalab-study": store.READABLE_VERSIONS,
                "lavalab-eval-report": (model_io.VERSION,),
                "lavalab-bridge-report": (model_io.VERSION,),
                "lavalab-dl-lava-check": (model_io.VERSION,),
                "lavalab-bundle-expected": (bundle.EXPECTED_VERSION,),
                "lavalab-bundle-results": (bundle.RESULTS_VERSION,)}
    bad = []
    for p in _committed_json():
        kinds = [fmt for pat, fmt in KINDS if re.fullmatch(pat, p.name)]
        doc = json.loads(p.read_text())
        if len(kinds) != 1:
            bad.append(f"{p.relative_to(ROOT)}: no known kind (add its writer's format here)")
        elif not isinstance(doc, dict) or doc.get("format") != kinds[0]:
            got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            bad.append(f"{p.relative_to(ROOT)}: format {got!r} (its writer: {kinds[0]!r})")
        elif doc.get("version") not in versions.get(kinds[0], (1,)):
            bad.append(f"{p.relative_to(ROOT)}: version {doc.get('version')!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("doc", [
    [{"model": "runs/dc100"}],  # a bare list of rows
    {"format": "lavalab.scaling/1", "rows": []},  # no version
    {"version": 1, "rows": []},  # no format
    {"format": "", "version": 1},
    {"format": "x", "version": "1"},
    {"format": "x", "version": True},
    {"format": "x", "version": 1.0},
])
def test_the_check_refuses_a_record_without_its_header(doc):
    assert _problem(doc)


def test_the_check_accepts_a_header():
    assert _problem({"format": "lavalab-bench-backends", "version": 1, "rows": []}) is None


def _module(path: Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readers_take_the_committed_files_and_refuse_foreign_ones(tmp_path):
    from lavalab.deploy import bundle
    from lavalab.model_io import ModelFileError

    # studies/deploy_agreement.py resumes from its --out
    agree = _module(ROOT / "studies" / "deploy_agreement.py", "deploy_agreement_t")
    assert len(agree.read_rows(RESULTS / "deploy-agreement.json")) == 6
    old = tmp_path / "old.json"
    old.write_text(json.dumps([{"model": "runs/dc100"}]))  # the layout before the header
    with pytest.raises(ValueError, match="old.json"):
        agree.read_rows(old)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "lavalab-eval-report", "version": 1, "rows": []}))
    with pytest.raises(ValueError, match="other.json.*expected 'lavalab-deploy-agreement'"):
        agree.read_rows(other)
    # lavalab deploy --verify reads the bundle's results_sim.json
    sims = sorted((RESULTS / "deploy-bundle-sim").glob("*_results_sim.json"))
    assert sims and all(bundle.read_results(p)["target"] == "sim" for p in sims)
    with pytest.raises(ModelFileError, match="old.json"):
        bundle.read_results(old)
    # a bundle's run.py reads expected.json with the names lavalab deploy writes
    common = _module(ROOT / "lavalab" / "deploy" / "templates" / "bundle_common.py",
                     "bundle_common_t")
    assert (common.EXPECTED_FORMAT, common.EXPECTED_VERSION, common.RESULTS_FORMAT,
            common.RESULTS_VERSION) == (bundle.EXPECTED_FORMAT, bundle.EXPECTED_VERSION,
                                        bundle.RESULTS_FORMAT, bundle.RESULTS_VERSION)
    for p in sorted((RESULTS / "deploy-bundle-sim").glob("*_expected.json")):
        (tmp_path / "expected.json").write_text(p.read_text())
        assert common.read_expected(tmp_path)["samples"] == 1000
    doc = json.loads(p.read_text())
    (tmp_path / "expected.json").write_text(json.dumps({**doc, "version": 2}))
    with pytest.raises(common.BundleError, match="expected.json"):
        common.read_expected(tmp_path)


def test_study_scripts_read_the_committed_study_results(tmp_path):
    """``read_document`` (what studies/topspark.py and tinysnn_precision.py print from)
    takes every committed study result and refuses another kind of record."""
    from lavalab.model_io import ModelFileError
    from lavalab.study.store import read_document

    files = sorted(RESULTS.glob("*/results.json"))
    assert files and all(read_document(f)["rows"] for f in files)
    foreign = tmp_path / "results.json"
    foreign.write_text(json.dumps({"format": "lavalab.scaling/1", "version": 1, "rows": []}))
    with pytest.raises(ModelFileError, match="expected 'lavalab-study'"):
        read_document(foreign)
