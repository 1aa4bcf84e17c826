"""The committed study results are publishable as they are: no machine paths in them."""

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "studies" / "results"
TEXT = {".json", ".csv", ".md", ".py", ".txt"}
# an absolute path of the machine a study ran on: /tmp/..., /work/..., /home/..., /root/...
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:tmp|work|home|root|Users|mnt|scratch)/")


def test_no_machine_paths_in_committed_results():
    files = [p for p in RESULTS.rglob("*") if p.suffix in TEXT]
    assert files, RESULTS
    bad = [f"{p.relative_to(RESULTS)}:{i}" for p in files
           for i, line in enumerate(p.read_text().splitlines(), 1) if MACHINE_PATH.search(line)]
    assert not bad, bad


def test_the_pattern_catches_a_machine_path():
    assert MACHINE_PATH.search('"model": "/tmp/i14/runs/t1.npz"')
    assert not MACHINE_PATH.search('"model": "runs/t1.npz"')
