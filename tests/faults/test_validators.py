"""Property tests of the validators every file read goes through: valid contents are
accepted (and returned unchanged in value), and each field moved out of its range, given
the wrong shape or a non-finite value is refused with a ValueError naming the field.

Validators: :mod:`lavalab.validate` (the model arrays), the STDP model reader
(``lavalab.stdp.files._checked_model``), the study result rows (``lavalab.study.store``),
the exact-time checkpoint (``lavalab.exact.train._checked_ckpt``) and the content digest of
JSON files (``lavalab.model_io.check_digest``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lavalab import model_io, validate
from lavalab.networks.snn import build, lower_network, spec_to_dict
from lavalab.stdp.config import EXP_IN, Q

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
SPEC = build("tinysnn", 5, n_input=64)
FIXED = lower_network(SPEC, Q, EXP_IN)
W_MAX = int(FIXED.stdp.w_max)
GRID = 1 << FIXED.exc.v_lsb
THETA_MAX = int(FIXED.exc.theta_max)


def _shape(n, m=None):
    return (n,) if m is None else (n, m)


# --- lavalab.validate -----------------------------------------------------------------

@SETTINGS
@given(st.integers(-10**6, 10**6), st.integers(-100, 100), st.integers(0, 100))
def test_integer_accepts_exactly_its_range(v, lo, width):
    hi = lo + width
    if lo <= v <= hi:
        assert validate.integer("n", v, lo, hi) == v
        assert validate.integer("n", np.int32(v) if abs(v) < 2**31 else v, lo, hi) == v
    else:
        with pytest.raises(ValueError, match="n="):
            validate.integer("n", v, lo, hi)
    for bad in (float(v), True, str(v), None):
        with pytest.raises(ValueError, match="n="):
            validate.integer("n", bad, lo, hi)


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_real_refuses_non_finite_and_out_of_range(v):
    ok = np.isfinite(v) and -1.0 <= v <= 1.0
    if ok:
        assert validate.real("x", v, -1.0, 1.0) == v
    else:
        with pytest.raises(ValueError, match="x="):
            validate.real("x", v, -1.0, 1.0)


@SETTINGS
@given(hnp.arrays(np.int64, (SPEC.n_exc, SPEC.n_input), elements=st.integers(0, W_MAX)))
def test_fixed_weights_valid_then_each_perturbation_refused(w):
    np.testing.assert_array_equal(validate.weights(w, SPEC, "fixed", FIXED), w)
    for bad, what in ((w[:, :-1], "shape"), (w.T, "shape"),
                      (np.where(np.arange(w.size).reshape(w.shape) == 0, W_MAX + 1, w),
                       "outside"),
                      (np.where(np.arange(w.size).reshape(w.shape) == 3, -1, w), "outside"),
                      (w + 0.5, "integers"), (w.astype(bool), "real numbers")):
        with pytest.raises(ValueError, match=what):
            validate.weights(bad, SPEC, "fixed", FIXED)


@SETTINGS
@given(hnp.arrays(np.float64, (SPEC.n_exc, SPEC.n_input),
                  elements=st.floats(0, float(SPEC.stdp.w_max))),
       st.sampled_from([np.nan, np.inf, -np.inf, -1e-3]), st.integers(0, 5 * 64 - 1))
def test_float_weights_refuse_a_non_finite_or_negative_entry(w, bad_value, pos):
    np.testing.assert_array_equal(validate.weights(w, SPEC, "float"), w)
    bad = w.copy()
    bad.flat[pos] = bad_value
    with pytest.raises(ValueError, match="weights"):
        validate.weights(bad, SPEC, "float")


@SETTINGS
@given(hnp.arrays(np.int64, (SPEC.n_exc,), elements=st.integers(0, THETA_MAX // GRID)),
       st.integers(0, SPEC.n_exc - 1))
def test_fixed_theta_on_its_grid(t, pos):
    theta = t * GRID
    np.testing.assert_array_equal(validate.theta(theta, SPEC, "fixed", FIXED), theta)
    off = theta.copy()
    off[pos] += 1 if GRID > 1 else THETA_MAX + 1  # off the grid (or over the maximum)
    with pytest.raises(ValueError, match="theta"):
        validate.theta(off, SPEC, "fixed", FIXED)
    with pytest.raises(ValueError, match="theta"):
        validate.theta(theta[:-1], SPEC, "fixed", FIXED)


@SETTINGS
@given(hnp.arrays(np.int64, (SPEC.n_exc,), elements=st.integers(-1, 9)),
       st.integers(0, SPEC.n_exc - 1), st.sampled_from([-2, 10, 99]))
def test_assignments_are_classes_or_minus_one(a, pos, bad_value):
    np.testing.assert_array_equal(validate.assignments(a, SPEC.n_exc), a)
    bad = a.copy()
    bad[pos] = bad_value
    with pytest.raises(ValueError, match="assignments"):
        validate.assignments(bad, SPEC.n_exc)


@SETTINGS
@given(hnp.arrays(np.float64, (SPEC.n_exc, 10), elements=st.floats(0, 1)),
       st.integers(0, SPEC.n_exc * 10 - 1), st.sampled_from([np.nan, 1.5, -0.1]))
def test_proportions_in_unit_interval(p, pos, bad_value):
    np.testing.assert_array_equal(validate.proportions(p, SPEC.n_exc), p)
    bad = p.copy()
    bad.flat[pos] = bad_value
    with pytest.raises(ValueError, match="proportions"):
        validate.proportions(bad, SPEC.n_exc)
    with pytest.raises(ValueError, match="shape"):
        validate.proportions(p[:, :9], SPEC.n_exc)


# --- the STDP model reader -------------------------------------------------------------

def _model_contents(w, theta, assign, prop):
    meta = {"spec": json.loads(json.dumps(spec_to_dict(SPEC))), "precision": "fixed",
            "seed": 0, "dataset": "digits", "input_shape": [8, 8]}
    return meta, {"w": w, "theta": theta, "assignments": assign, "proportions": prop}


MODEL_EDITS = {
    "precision": lambda m, a: m.update(precision="half"),
    "seed": lambda m, a: m.update(seed=-1),
    "dataset": lambda m, a: m.update(dataset="cifar"),
    "input_shape": lambda m, a: m.update(input_shape=[28, 28]),
    "spec": lambda m, a: m["spec"].update(n_exc=0),
    "w": lambda m, a: a.update(w=a["w"][:, :-1]),
    "theta": lambda m, a: a.update(theta=np.full(SPEC.n_exc, -GRID)),
    "assignments": lambda m, a: a.update(assignments=np.full(SPEC.n_exc, 10)),
    "proportions": lambda m, a: a.update(proportions=np.full((SPEC.n_exc, 10), np.nan)),
}


@SETTINGS
@given(hnp.arrays(np.int64, (SPEC.n_exc, SPEC.n_input), elements=st.integers(0, W_MAX)),
       hnp.arrays(np.int64, (SPEC.n_exc,), elements=st.integers(0, THETA_MAX // GRID)),
       hnp.arrays(np.int64, (SPEC.n_exc,), elements=st.integers(-1, 9)),
       hnp.arrays(np.float64, (SPEC.n_exc, 10), elements=st.floats(0, 1)),
       st.sampled_from(sorted(MODEL_EDITS)))
def test_model_reader_accepts_valid_and_refuses_each_field(w, t, assign, prop, field):
    from lavalab.stdp.files import _checked_model

    meta, arrays = _model_contents(w, t * GRID, assign, prop)
    model = _checked_model(meta, dict(arrays))
    np.testing.assert_array_equal(model.w, w)
    np.testing.assert_array_equal(model.assignments, assign)
    MODEL_EDITS[field](meta, arrays)
    with pytest.raises((ValueError, TypeError, KeyError)):
        _checked_model(meta, arrays)


# --- study rows -------------------------------------------------------------------------

def _timestep_row(T, Ti, acc, e):
    key = f"T{T}-{e}" if T == Ti else f"T{T}-none@{Ti}-{e}"
    return {"key": key, "timesteps": T, "infer_timesteps": Ti, "enhancement": e
            if T == Ti else f"{e}, inference only", "accuracy": acc,
            "accuracy_proportion": acc, "energy_infer_uJ": 1.0, "energy_train_uJ": None,
            "latency_infer_us": 2.0}


ROW_EDITS = {
    "accuracy": ("accuracy", 100.5), "accuracy_nan": ("accuracy", float("nan")),
    "accuracy_proportion": ("accuracy_proportion", -1.0),
    "energy_infer_uJ": ("energy_infer_uJ", -1e-9), "timesteps": ("timesteps", 0),
    "infer_timesteps": ("infer_timesteps", 1.5), "latency_infer_us": ("latency_infer_us", 0.0),
    "key": ("key", "T1-none"), "enhancement": ("enhancement", 3),
}


@SETTINGS
@given(st.integers(2, 1000), st.data(), st.floats(0, 100),
       st.sampled_from(["none", "linear", "proportional"]), st.sampled_from(sorted(ROW_EDITS)))
def test_timestep_rows_valid_then_each_field_refused(T, data, acc, e, edit):
    from lavalab.study.store import _check_row

    Ti = data.draw(st.integers(1, T))
    row = _timestep_row(T, Ti, acc, e)
    _check_row("timesteps", row)
    name, bad = ROW_EDITS[edit]
    if name == "key" and row["key"] == bad:
        bad = "T0-x"
    with pytest.raises((ValueError, TypeError)):
        _check_row("timesteps", {**row, name: bad})
    missing = {k: v for k, v in row.items() if k != name}
    with pytest.raises((ValueError, TypeError)):
        _check_row("timesteps", missing)


# --- the exact-time checkpoint ----------------------------------------------------------

@SETTINGS
@given(st.integers(0, 3), st.integers(0, 4), st.sampled_from(
    ["W0", "m1", "v0", "epoch", "batch", "adam_t", "order", "history"]))
def test_exact_checkpoint_fields_checked_against_each_other(epoch, batch, field):
    from lavalab.exact.spec import ExactSpec
    from lavalab.exact.train import TrainConfig, _checked_ckpt

    spec = ExactSpec(sizes=(6, 4, 3), thresholds=(0.1, 0.2), max_spikes=(3, 3))
    cfg = TrainConfig(epochs=3, batch_size=2, train_samples=10)
    n, nb = 10, 5
    epoch = min(epoch, cfg.epochs)
    batch = 0 if epoch == cfg.epochs else batch
    rng = np.random.default_rng(epoch * 10 + batch)
    arr = {}
    for i in range(2):
        shape = (spec.sizes[i + 1], spec.sizes[i])
        arr[f"W{i}"], arr[f"m{i}"] = rng.normal(size=shape), rng.normal(size=shape)
        arr[f"v{i}"] = rng.random(shape)
    arr["order"] = rng.permutation(n) if batch else np.zeros(0, np.int64)
    hist = [{"epoch": e + 1} for e in range(epoch)] + ([{"partial": True}] if batch else [])
    meta = {"epoch": epoch, "batch": batch, "adam_t": epoch * nb + batch, "history": hist}
    st_ = _checked_ckpt(spec, cfg, n, nb, meta, dict(arr))
    assert (st_["epoch"], st_["batch"], st_["adam_t"]) == (epoch, batch, epoch * nb + batch)
    bad_meta, bad_arr = json.loads(json.dumps(meta)), dict(arr)
    if field == "W0":
        bad_arr["W0"] = arr["W0"].T
    elif field == "m1":
        bad_arr["m1"] = np.full_like(arr["m1"], np.inf)
    elif field == "v0":
        bad_arr["v0"] = -arr["v0"] - 1
    elif field == "epoch":
        bad_meta["epoch"] = cfg.epochs + 1
    elif field == "batch":
        bad_meta["batch"] = nb
    elif field == "adam_t":
        bad_meta["adam_t"] += 1
    elif field == "order":
        bad_meta["batch"], bad_meta["adam_t"] = 1, epoch * nb + 1
        bad_meta["history"] = hist[:epoch] + [{"partial": True}]
        bad_arr["order"] = np.full(n, 0) if epoch < cfg.epochs else arr["order"]
        if epoch == cfg.epochs:
            bad_meta["epoch"] = epoch  # batch 1 of a finished run: out of range anyway
    else:
        bad_meta["history"] = hist + [{"epoch": 99}]
    with pytest.raises((ValueError, KeyError, TypeError)):
        _checked_ckpt(spec, cfg, n, nb, bad_meta, bad_arr)


# --- the digest of JSON files -----------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**9, 10**9)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4)
                    | st.dictionaries(st.text(max_size=6), c, max_size=4), max_leaves=20)


@SETTINGS
@given(st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: k != "sha256"),
                       JSON, min_size=1, max_size=5), st.data())
def test_digest_accepts_its_content_and_refuses_any_change(tmp_path, doc, data):
    path = tmp_path / "d.json"
    model_io.write_json(path, doc, digest=True)
    back = model_io.load_json(path)
    model_io.check_digest(path, back)
    key = data.draw(st.sampled_from(sorted(doc)))
    new = data.draw(JSON.filter(lambda v: json.dumps(v, sort_keys=True)
                                != json.dumps(doc[key], sort_keys=True)))
    with pytest.raises(model_io.ModelFileError, match="d.json"):
        model_io.check_digest(path, {**back, key: new})
    model_io.check_digest(path, {k: v for k, v in back.items() if k != "sha256"})  # legacy
