"""The engine's speed against another revision's, in one script run (an A/B benchmark).

Machines differ by 2x or more and a shared machine's load changes from minute to minute,
so an absolute samples/s from one run says little. This script runs the engine of the
working tree (A) and the engine of a git revision (B, extracted with ``git archive`` into
a temporary directory) in two long-lived worker processes and alternates them round by
round (A then B, B then A, ...): each round trains a fresh fixed-point network on the same
real MNIST digits, then evaluates them with the weights frozen (one thread, the loop
``infer`` runs in each thread), and reports the process CPU time. Both workers must give
the same counts, events, weights and theta (checked every round: a speed-up that changes
a spike is a bug, not a speed-up).

Printed: per mode, each side's median samples per CPU second and the median of the
paired ratios A/B (with their spread); ``--json`` writes the same.

    python bench/engine_ab.py --base 3ca9654                 # D&C-400, 200 samples, 8 rounds
    python bench/engine_ab.py --base HEAD~3 --n 1600 --samples 50 --rounds 6

The base revision must have ``lavalab.engine.make_net`` / ``run`` and
``lavalab.networks.snn.build`` / ``init_weights`` / ``lower_network`` (every revision
since the engine has). Each worker pays its JIT compile once, before the first round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FORMAT, VERSION = "lavalab-bench-engine-ab", 1  # of the --json file

#: The worker: reads one line per round from stdin and answers one JSON line.
WORKER = r"""
import hashlib, json, sys, time
import numpy as np
import lavalab  # noqa: F401  (its import fixes)
from lavalab.data import load_dataset
from lavalab.engine import make_net, run
from lavalab.networks.snn import build, init_weights, lower_network

kind, n, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spec = build(kind, n)
fx = lower_network(spec)
train = load_dataset("mnist", "train").images
w0 = np.rint(init_weights(spec, 0, train) * fx.q).astype(np.int64)
warm, images = train[:1], train[1:samples + 1]

def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

def once(learn):
    net = make_net(spec, "fixed", w0, seed=0, fixed=fx)
    run(net, warm, learn)
    c0 = time.process_time()
    counts, events, _ = run(net, images, learn)
    cpu = time.process_time() - c0
    return cpu, digest(counts, events, net.w, net.theta)

once(True), once(False)  # compile
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    out = {}
    for mode, learn in (("train", True), ("infer", False)):
        cpu, h = once(learn)
        out[mode] = {"cpu_s": cpu, "digest": h}
    print(json.dumps(out), flush=True)
"""


def _extract(rev: str, into: Path) -> Path:
    """``lavalab/`` of git revision ``rev`` under ``into``; returns ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "lavalab"],
                             capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"--base {rev}: not a revision of {ROOT} "
                         f"({archive.stderr.decode().strip()})")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


class _Worker:
    def __init__(self, name: str, path: Path, args):
        env = dict(os.environ, PYTHONPATH=str(path), PYTHONHASHSEED="0")
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, args.network, str(args.n), str(args.samples)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=path)
        self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} worker ended (exit {self.proc.wait()})")
        return json.loads(line)

    def round(self) -> dict:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def compare(args) -> dict:
    """Alternate the two workers for ``args.rounds`` rounds; the summary dict."""
    with tempfile.TemporaryDirectory() as tmp:
        base = _extract(args.base, Path(tmp))
        workers = {"A": _Worker("working tree", ROOT, args), "B": _Worker(args.base, base, args)}
        runs = {m: {"A": [], "B": []} for m in ("train", "infer")}
        try:
            for r in range(args.rounds):
                order = ("A", "B") if r % 2 == 0 else ("B", "A")
                got = {side: workers[side].round() for side in order}
                for mode in runs:
                    if got["A"][mode]["digest"] != got["B"][mode]["digest"]:
                        raise SystemExit(f"{mode}: the two engines' results differ")
                    for side in ("A", "B"):
                        runs[mode][side].append(args.samples / got[side][mode]["cpu_s"])
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{m} A/B {runs[m]['A'][-1] / runs[m]['B'][-1]:.3f}" for m in runs),
                    flush=True)
        finally:
            for w in workers.values():
                w.close()
    out = {"base": args.base, "network": args.network, "n": args.n, "samples": args.samples,
           "rounds": args.rounds, "load_average": os.getloadavg()[0]}
    for mode, sides in runs.items():
        a, b = np.array(sides["A"]), np.array(sides["B"])
        ratio = a / b
        out[mode] = {"A_samples_per_cpu_s": float(np.median(a)),
                     "B_samples_per_cpu_s": float(np.median(b)),
                     "ratio_median": float(np.median(ratio)),
                     "ratio_q25": float(np.quantile(ratio, 0.25)),
                     "ratio_q75": float(np.quantile(ratio, 0.75)),
                     "ratio_of_medians": float(np.median(a) / np.median(b))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD", help="git revision to compare with (B)")
    ap.add_argument("--network", default="diehl-cook", choices=("diehl-cook", "tinysnn"))
    ap.add_argument("--n", type=int, default=400, help="excitatory neurons")
    ap.add_argument("--samples", type=int, default=200, help="digits per round and mode")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)
    if args.n < 1 or args.samples < 1 or args.rounds < 1:
        ap.error("--n, --samples and --rounds must be positive")
    out = compare(args)
    for mode in ("train", "infer"):
        m = out[mode]
        print(f"{mode}: A {m['A_samples_per_cpu_s']:.1f}, B {m['B_samples_per_cpu_s']:.1f} "
              f"samples/CPU s; A/B paired median {m['ratio_median']:.3f} "
              f"(quartiles {m['ratio_q25']:.3f}-{m['ratio_q75']:.3f})")
    if args.json:
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps({"format": FORMAT, "version": VERSION, **out}, indent=1)
                       + "\n")
        tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
