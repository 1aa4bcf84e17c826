"""Stock-Process deployment vs the engine: prediction agreement and accuracy difference.

For each trained model and theta fold, the model's stock network (lavalab.deploy.stock)
classifies the first ``--samples`` MNIST test digits with the fast stock simulator
(``simulate_stock``: Lava's LIF/Dense fixed-point arithmetic, checked spike for spike
against Lava's own Loihi2SimCfg run in tests/backends/test_lava_stock.py and, with
``--lava``, on the first digits here), and the engine classifies the same digits with the
same Poisson input. One JSON row per (model, fold) is written at once (atomic; a rerun
skips finished rows; the file is ``{"format": "lavalab-deploy-agreement", "version": 1,
"rows": [...]}``, and a file of another kind is refused). Accuracies and agreement in
percent (``*_pct``; files written before hold fractions under the names without ``_pct``).

    python studies/deploy_agreement.py runs/dc100 runs/ts100 --samples 2000 --lava 20 \
        --out studies/results/deploy-agreement.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import lavalab  # noqa: F401  (before Lava)

FORMAT = "lavalab-deploy-agreement"
VERSION = 1


def read_rows(path: Path) -> list[dict]:
    """The rows of a file this script wrote; a file of another kind or version (or a
    damaged one) raises ``ValueError`` naming it."""
    from lavalab import model_io

    doc = model_io.load_json(path)
    if (doc.get("format"), doc.get("version")) != (FORMAT, VERSION) or not isinstance(
            doc.get("rows"), list):
        raise ValueError(f"{path}: format {doc.get('format')!r} version "
                         f"{doc.get('version')!r}, expected {FORMAT!r} version {VERSION} "
                         "with a list of rows")
    return doc["rows"]


def main(argv=None) -> int:
    import lava.magma.core.process.process  # noqa: F401

    from lavalab import model_io
    from lavalab.data import load_dataset
    from lavalab.deploy.lava_stock import run_stock, simulate_stock
    from lavalab.deploy.stock import lower_model
    from lavalab.engine import infer, make_net
    from lavalab.protocol import TEST_SEED_OFFSET, predict_all_activity
    from lavalab.stdp import load_model

    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--folds", default="scale,none",
                    help="theta folds; '<fold>+noinh' drops the inhibition (netx's form)")
    ap.add_argument("--lava", type=int, default=0, help="also run the first N digits on "
                    "Lava's Loihi2SimCfg and check they equal the simulator")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    out = Path(a.out)
    try:
        rows = read_rows(out) if out.exists() else []
    except ValueError as err:
        print(f"deploy_agreement.py: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    test = load_dataset("mnist", "test").subset(a.samples)
    for path in a.models:
        m = load_model(path)
        seed = m.seed + TEST_SEED_OFFSET
        ce = None
        for fold in a.folds.split(","):
            key = dict(model=str(path), theta_fold=fold, samples=a.samples, lava=a.lava)
            if any(all(r.get(k) == v for k, v in key.items()) for r in rows):
                continue
            if ce is None:
                ce, _ = infer(make_net(m.spec, "fixed", m.w, m.theta, seed=seed,
                                       fixed=m.fixed), test.images)
                pe = predict_all_activity(ce, m.assignments)
            # "<fold>+noinh": without the inhibition (what netx HDF5 holds)
            low = lower_model(m, theta_fold=fold.split("+")[0],
                              inhibition=not fold.endswith("+noinh"))
            t0 = time.perf_counter()
            r = simulate_stock(low, test.images, seed, m.spec.max_rate_hz, m.spec.dt_ms,
                               chunk=500)
            wall = time.perf_counter() - t0
            ps = predict_all_activity(r["counts"], m.assignments)
            row = dict(key, network=f"{m.spec.kind}-{m.spec.n_exc}", seed=seed,
                       train_samples=m.meta["config"]["samples"],
                       approximations=list(low.approximations),
                       stock_accuracy_pct=100 * float((ps == test.labels).mean()),
                       engine_accuracy_pct=100 * float((pe == test.labels).mean()),
                       agreement_pct=100 * float((ps == pe).mean()),
                       identical_counts_pct=100 * float((r["counts"] == ce).all(1).mean()),
                       exc_spikes_stock=float(r["counts"].sum(1).mean()),
                       exc_spikes_engine=float(ce.sum(1).mean()), sim_wall_s=wall)
            row["accuracy_difference_points"] = (row["stock_accuracy_pct"]
                                                 - row["engine_accuracy_pct"])
            if a.lava:
                t0 = time.perf_counter()
                lv = run_stock(low, test.images[:a.lava], seed, m.spec.max_rate_hz,
                               m.spec.dt_ms, copies=min(10, a.lava))
                row["lava_digits"] = a.lava
                row["lava_wall_s"] = time.perf_counter() - t0
                row["lava_equals_simulator"] = bool(np.array_equal(
                    lv["counts"], r["counts"][:a.lava]))
            rows.append(row)
            model_io.write_json(out, {"format": FORMAT, "version": VERSION,
                                      "rows": rows})
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
