"""Run a dt-trained exact-spike-time network as a discrete-time CUBA LIF (Loihi / Lava).

:func:`simulate` is a vectorised numpy simulation of the lowered network
(:func:`lavalab.compile.lower_exact.lower_exact`) in four variants, each adding one of the
chip's changes to the event-driven grid model, so their differences say where accuracy
goes:

``float-soft``   exact discretisation, float weights, soft reset (v -= theta): the grid
                 model itself, except that crossings are checked at grid points only and
                 there is no cap on spikes per neuron
``float-hard``   + Lava's hard reset (v = 0)
``float-decay``  + the 12-bit decays Lava applies (du, dv registers)
``fixed``        + 8-bit weights and Lava's integer arithmetic (u, v 24-bit, a_in << 6,
                 v > vth << 6): bit-exact with Lava's stock ``LIF`` + ``Dense`` on
                 ``fixed_pt`` (:func:`run_lava`; tested)

Time: the LIF step j holds the membrane at grid time (j+1) dt; inputs delayed to the grid
(``t~ = m dt``) enter at step m; a layer's spike at step j reaches the next layer at step
j+1 (Dense's one-step delay). Output: spike counts of the output layer; prediction = argmax
(ties -> lowest index), as in the event-driven model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from lavalab import fixed, model_io
from lavalab import loihi_spec as ls
from lavalab.compile.energy import estimate
from lavalab.compile.lower_exact import ExactLowered, lower_exact
from lavalab.compile.mapping import map_to_cores
from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact import model
from lavalab.exact.train import _bar, evaluate, load_network

__all__ = ["VARIANTS", "simulate", "run_lava", "compare", "compare_cli", "energy_report"]

VARIANTS = ("float-soft", "float-hard", "float-decay", "fixed")


def _input_spikes(low: ExactLowered, images, window: float) -> np.ndarray:
    """bool (B, steps, n_in): input spike of pixel i at its LIF step."""
    t, _ = model.encode_images(images, window)
    st = low.input_steps(t[:, :, 0])
    B, n = st.shape
    s = np.zeros((B, low.steps, n), bool)
    b, i = np.nonzero(st >= 0)
    s[b, st[b, i], i] = True
    return s


def simulate(low: ExactLowered, weights, images, window: float, variant: str = "fixed"):
    """Spike counts per layer [(B, N) int64] and output spike steps (B, N_out, steps) bool.

    ``weights`` are the float weights (used by the float variants).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {VARIANTS}")
    s_in = _input_spikes(low, images, window)
    B = s_in.shape[0]
    len(low.layers)
    n = [lay.weights.shape[0] for lay in low.layers]
    counts = [np.zeros((B, k), np.int64) for k in n]
    out_steps = np.zeros((B, n[-1], low.steps), bool)
    prev = [np.zeros((B, k), bool) for k in n]
    if variant == "fixed":
        u = [np.zeros((B, k), np.int64) for k in n]
        v = [np.zeros((B, k), np.int64) for k in n]
        Wf = [lay.weights.astype(np.float64).T for lay in low.layers]
        vmax = ls.UV_MAX - 1
    else:
        u = [np.zeros((B, k)) for k in n]
        v = [np.zeros((B, k)) for k in n]
        Wf = [np.asarray(W, dtype=np.float64).T for W in weights]
    for j in range(low.steps):
        src = [s_in[:, j, :]] + prev[:-1]
        new = []
        for li, lay in enumerate(low.layers):
            a = sparse.csr_matrix(src[li], dtype=np.float64) @ Wf[li]  # spikes are sparse
            if variant == "fixed":
                a = np.rint(a).astype(np.int64)  # exact: integer sums < 2**53
                a = a << lay.weight_exp if lay.weight_exp > 0 else a >> -lay.weight_exp
                uu = fixed.decay(u[li], lay.du + ls.DU_OFFSET) + (a << ls.ACT_SHIFT)
                u[li] = fixed.wrap_once(uu, ls.UV_BITS)
                vv = fixed.decay(v[li], lay.dv + ls.DV_OFFSET) + u[li]
                v[li] = np.clip(vv, -vmax, vmax)
                s = v[li] > (lay.vth << ls.VTH_SHIFT)
                v[li][s] = 0
            else:
                if variant == "float-decay":
                    al, be = lay.alpha_fixed, lay.beta_fixed
                else:
                    al, be = lay.alpha, lay.beta
                u[li] = al * u[li] + a
                v[li] = be * v[li] + lay.gamma * u[li]
                s = v[li] > lay.theta
                if variant == "float-soft":
                    v[li][s] -= lay.theta
                else:
                    v[li][s] = 0.0
            counts[li] += s
            new.append(s)
        out_steps[:, :, j] = new[-1]
        prev = new
    return counts, out_steps


def run_lava(low: ExactLowered, images, window: float):
    """Run the lowered network on Lava (stock RingBuffer -> Dense -> LIF -> Dense -> LIF,
    ``Loihi2SimCfg(select_tag="fixed_pt")``), one sample at a time.

    Returns spike counts per layer [(B, N) int64] and the output spikes (B, N, steps).
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    s_in = _input_spikes(low, images, window)
    B = s_in.shape[0]
    # Lava step t: the source sends column t-1; Dense receives the spikes sent at step t and
    # delivers them at t+1. So our LIF step j (every layer) is Lava step j + 2, recorded by
    # a sink at index j + 1.
    T = low.steps + 1
    counts = [np.zeros((B, lay.weights.shape[0]), np.int64) for lay in low.layers]
    out = np.zeros((B, low.layers[-1].weights.shape[0], low.steps), bool)
    for b in range(B):
        data = np.zeros((s_in.shape[2], T))
        data[:, :low.steps] = s_in[b].T
        src = Source(data=data)
        prev, sinks = src.s_out, []
        for lay in low.layers:
            dense = Dense(weights=lay.weights.astype(np.int32), weight_exp=lay.weight_exp,
                          num_weight_bits=lay.num_weight_bits)
            lif = LIF(shape=(lay.weights.shape[0],), du=lay.du, dv=lay.dv, vth=lay.vth,
                      bias_mant=0, bias_exp=0)
            prev.connect(dense.s_in)
            dense.a_out.connect(lif.a_in)
            sink = Sink(shape=(lay.weights.shape[0],), buffer=T)
            lif.s_out.connect(sink.a_in)
            sinks.append(sink)
            prev = lif.s_out
        src.run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        recs = [s.data.get().astype(bool) for s in sinks]
        src.stop()
        for li, r in enumerate(recs):
            seg = r[:, 1:1 + low.steps]
            counts[li][b] = seg.sum(axis=1)
            if li == len(low.layers) - 1:
                out[b] = seg
    return counts, out


def energy_report(low: ExactLowered, counts, n_input_spikes, target="loihi1",
                  table="davies2018") -> dict:
    """Energy / latency per sample from lavalab's analysis over the lowered LayerGraph."""
    g = low.layer_graph()
    cm = map_to_cores(g, target)
    n_h, n_o = low.sizes[1], low.sizes[2]
    hid = float(np.mean(counts[0].sum(axis=1)))
    outp = float(np.mean(counts[1].sum(axis=1)))
    inp = float(np.mean(n_input_spikes))
    ev = {"input_spikes": inp, "exc_spikes": hid, "inh_spikes": outp,
          "syn_events_input": inp * n_h, "syn_events_inhibition": hid * n_o,
          "weight_updates": 0.0}
    rep = estimate(g, cm, ev, sample_steps=low.steps, table=table)
    d = rep.to_dict()
    return {"energy_uj": d["energy_uj"], "latency_sample_us": d["latency_sample_us"],
            "latency_step_ns": d["latency_step_ns"], "cores": len(cm.cores),
            "events": ev, "table": table, "target": target, "report": d}


def compare(spec, weights, images, labels, dt: float, lava_samples: int = 0,
            weight_bits: int = 8, progress: bool = False, batch: int = 100) -> dict:
    """Event-driven model at ``dt`` vs the four discrete variants (and Lava on the first
    ``lava_samples`` images): accuracy, agreement of predictions, spike counts."""
    if lava_samples > 0:
        # Lava fixes multiprocessing's start method ("fork") at import; tqdm's default lock
        # would fix it first: import Lava before any progress bar
        import lava.proc.dense.process  # noqa: F401
    budget = SpikeTimeBudget(dt_s=dt)
    low = lower_exact(spec, weights, budget, weight_bits=weight_bits)
    labels = np.asarray(labels)
    n = len(labels)
    ev = evaluate(spec, weights, images, labels, budget)
    ref_pred = ev["predictions"]
    res = {"dt_s": dt, "samples": n, "steps": low.steps, "weight_bits": weight_bits,
           "lowered": [{"du": lay.du, "dv": lay.dv, "vth": lay.vth,
                        "weight_exp": lay.weight_exp, "w_scale": lay.w_scale,
                        "alpha": lay.alpha, "alpha_fixed": lay.alpha_fixed,
                        "beta": lay.beta, "beta_fixed": lay.beta_fixed,
                        "gamma": lay.gamma} for lay in low.layers],
           "event_driven": {"accuracy": ev["accuracy"],
                            "spikes_per_neuron": ev["spikes_per_neuron"]}}
    n_in = (np.asarray(images).reshape(n, -1) > 0).sum(axis=1)
    fixed_counts = None
    for variant in VARIANTS:
        t0 = time.time()
        cs = [np.zeros((n, k), np.int64) for k in spec.sizes[1:]]
        for s in _bar(range(0, n, batch), desc=variant, disable=not progress, leave=False):
            c, _ = simulate(low, weights, images[s:s + batch], spec.input_window, variant)
            for li in range(len(cs)):
                cs[li][s:s + batch] = c[li]
        pred = cs[-1].argmax(axis=1)
        res[variant] = {"accuracy": 100.0 * float((pred == labels).mean()),
                        "agreement": 100.0 * float((pred == ref_pred).mean()),
                        "spikes_per_neuron": [float(c.mean()) for c in cs],
                        "seconds": time.time() - t0}
        if variant == "fixed":
            fixed_counts = cs
    if lava_samples > 0:
        t0 = time.time()
        k = min(lava_samples, n)
        lc, _ = run_lava(low, images[:k], spec.input_window)
        exact = all(np.array_equal(lc[li], fixed_counts[li][:k]) for li in range(len(lc)))
        res["lava"] = {"samples": k, "bit_exact_counts": bool(exact),
                       "accuracy": 100.0 * float((lc[-1].argmax(1) == labels[:k]).mean()),
                       "seconds": time.time() - t0}
    res["energy"] = energy_report(low, fixed_counts, n_in)
    res["energy"].pop("report")
    return res


def compare_cli(model_path, dt, samples, lava_samples, weight_bits, dataset, data_root,
                out: Path, progress: bool = True) -> str:
    from lavalab.data import load_dataset

    spec, weights, meta = load_network(model_path)
    trained_on = meta.get("dataset")
    if dataset is None:  # the network's own dataset (older files: mnist)
        dataset = trained_on or "mnist"
    elif trained_on is not None and dataset != trained_on:
        raise ValueError(f"--dataset {dataset}: {model_path} was trained on {trained_on} "
                         "(its accuracy on another dataset would mean nothing; leave "
                         "--dataset out to use the network's)")
    te = load_dataset(dataset, "test", data_root)
    if samples > len(te.labels):
        raise ValueError(f"--samples={samples} exceeds the {len(te.labels)} test images")
    if int(te.images[0].size) != spec.sizes[0]:
        raise ValueError(f"{model_path}: the network has {spec.sizes[0]} inputs, {dataset} "
                         f"images have {te.images[0].size} pixels")
    res = compare(spec, weights, te.images[:samples], te.labels[:samples], dt,
                  lava_samples=lava_samples, weight_bits=weight_bits, progress=progress)
    res["model"] = str(model_path)
    res["model_meta"] = {k: meta.get(k) for k in ("dt_s", "seed", "epochs", "train_samples")}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_io.write_report(out / "bridge.json", "lavalab-bridge-report", res)
    lines = [f"dt={dt:g} s ({res['steps']} steps), {samples} test digits; trained at "
             f"dt={meta.get('dt_s')}",
             f"  event-driven: {res['event_driven']['accuracy']:.2f} %"]
    for v in VARIANTS:
        r = res[v]
        lines.append(f"  {v:12s}: {r['accuracy']:.2f} %, agrees with event-driven on "
                     f"{r['agreement']:.2f} %, spikes/neuron {r['spikes_per_neuron']}")
    if "lava" in res:
        lv = res["lava"]
        lines.append(f"  Lava fixed_pt on {lv['samples']} digits: counts bit-exact with "
                     f"'fixed': {lv['bit_exact_counts']}, accuracy {lv['accuracy']:.1f} %")
    e = res["energy"]
    lines.append(f"  energy {e['energy_uj']:.3f} uJ/sample, latency {e['latency_sample_us']:.1f}"
                 f" us/sample on {e['cores']} {e['target']} cores ({e['table']})")
    lines.append(f"wrote {out / 'bridge.json'}")
    json.dumps(res)  # JSON-able check
    return "\n".join(lines)
