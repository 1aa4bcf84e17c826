"""Fuzz tests of the validation layer: the engine's entry points and the readers get
random shapes, dtypes and values and either give a correct result or raise the project's
error type (ValueError and its subclasses DataError / ModelFileError), never anything else
(in particular never reach a compiled kernel with a mismatched array)."""

import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lavalab import model_io, validate
from lavalab.data import DataError, read_idx
from lavalab.engine import infer, make_net, run
from lavalab.networks.snn import build, lower_network

SPEC = build("tinysnn", 3, 4, present_steps=3, rest_steps=2)
FIXED = lower_network(SPEC)
W_OK = np.full((3, 4), 10, np.int64)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

dtypes = st.sampled_from([np.uint8, np.int8, np.int64, np.float32, np.float64, np.bool_,
                          np.complex128, np.uint64])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
elements = st.one_of(st.integers(-300, 300), st.floats(allow_nan=True, allow_infinity=True,
                                                        width=32),
                     st.sampled_from([0, 1, 255, 256, -1, 0.5]))


@st.composite
def arrays(draw, shape=None):
    dt = draw(dtypes)
    shp = draw(shapes) if shape is None else shape
    vals = draw(st.lists(elements, min_size=int(np.prod(shp)), max_size=int(np.prod(shp))))
    with np.errstate(all="ignore"):
        try:
            return np.array(vals, dtype=np.float64).astype(dt).reshape(shp)
        except (OverflowError, ValueError):
            return np.zeros(shp, dt)


@FUZZ
@given(w=st.one_of(arrays(), arrays((3, 4))), theta=st.one_of(st.none(), arrays(),
                                                               arrays((3,))),
       seed=st.one_of(st.integers(-5, 2**33), st.just(np.int64(7)), st.floats(0, 5)))
def test_make_net_accepts_only_valid_contents(w, theta, seed):
    for precision in ("fixed", "float"):
        try:
            net = make_net(SPEC, precision, w, theta, seed=seed, fixed=FIXED)
        except ValueError:
            continue
        # accepted: exactly what the Lava backend accepts
        assert net.w.shape == (3, 4) and np.all(np.isfinite(net.w))
        assert net.w.min() >= 0
        assert net.w.max() <= (FIXED.stdp.w_max if precision == "fixed" else SPEC.stdp.w_max)
        assert net.theta.shape == (3,) and net.theta.min() >= 0
        if precision == "fixed":
            np.testing.assert_array_equal(net.w, np.asarray(w).astype(np.int64))
        assert 0 <= net.seed <= validate.ENGINE_SEED_MAX


@FUZZ
@given(images=arrays())
def test_run_and_infer_accept_only_matching_images(images):
    net = make_net(SPEC, "fixed", W_OK, fixed=FIXED)
    for call in (lambda: run(net, images, learn=True), lambda: infer(net, images)):
        try:
            counts, *_ = call()
        except ValueError as err:
            assert "images" in str(err)
            continue
        x = np.asarray(images)
        assert x.ndim >= 2 and int(np.prod(x.shape[1:])) == 4
        assert counts.shape == (len(x), 3)


def test_heap_corruption_case_is_a_value_error():
    """8x8 digits into a 784-input network (was: free(): invalid pointer, exit 134) and
    2x2 images into it (was: silently 10 %)."""
    spec = build("diehl-cook", 5, 784, present_steps=5, rest_steps=2)
    net = make_net(spec, "fixed", np.zeros((5, 784), np.int64))
    for shape in ((2, 8, 8), (2, 2, 2), (2, 28, 27)):
        with pytest.raises(ValueError, match=r"do not fit the network's 784 inputs"):
            run(net, np.zeros(shape, np.uint8))
        with pytest.raises(ValueError, match=r"do not fit the network's 784 inputs"):
            infer(net, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("theta, match", [
    (np.zeros(4), r"theta has shape \(4,\), expected \(3,\)"),   # was read out of bounds
    (np.full(3, -5), "theta value -5"),
    (np.array([0, np.nan, 0]), "NaN"),
    (np.array([0.5, 0, 0]), "must be integers"),
])
def test_theta_contents(theta, match):
    with pytest.raises(ValueError, match=match):
        make_net(SPEC, "fixed", W_OK, theta, fixed=FIXED)


@pytest.mark.parametrize("w, match", [
    (-W_OK, "weights value -10 is outside the allowed range 0..255"),
    (W_OK * 30, "weights value 300 is outside"),
    (W_OK + 0.5, "must be integers"),
    (np.where(W_OK > 0, np.nan, 0), "NaN"),
    (W_OK.astype(complex), "real numbers"),
])
def test_weight_contents(w, match):
    with pytest.raises(ValueError, match=match):
        make_net(SPEC, "fixed", w, fixed=FIXED)


def test_numpy_integers_are_integers():
    assert validate.integer("neurons", np.int64(10), 1, 3600) == 10
    with pytest.raises(ValueError, match="must be an integer"):
        validate.integer("neurons", 10.0, 1, 3600)
    with pytest.raises(ValueError, match="must be an integer"):
        validate.integer("neurons", True, 1, 3600)
    from lavalab.stdp import TrainConfig
    from lavalab.study import StudySetup

    assert TrainConfig(neurons=np.int64(10), seed=np.int32(3)).neurons == 10
    assert StudySetup(neurons=np.int64(10), assign_samples=np.int64(50)).neurons == 10
    assert type(TrainConfig(neurons=np.int64(10)).neurons) is int  # JSON-able


def test_unique_keeps_first_occurrence():
    assert validate.unique(["linear", "none", "linear"]) == ["linear", "none"]


def test_out_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="--out .*file is an existing file"):
        validate.out_dir(f)
    with pytest.raises(ValueError, match="is not writable"):
        validate.out_dir("/proc/lavalab-out")
    assert validate.out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # nothing created


# --- readers --------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=300))
def test_load_npz_on_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("npz") / "model.npz"
    p.write_bytes(data)
    with pytest.raises(model_io.ModelFileError, match="model.npz"):
        model_io.load_npz(p, model_io.MODEL_FORMAT)


@FUZZ
@given(data=st.binary(max_size=200), gz=st.booleans())
def test_read_idx_on_random_bytes(tmp_path_factory, data, gz):
    import gzip

    p = tmp_path_factory.mktemp("idx") / ("x.gz" if gz else "x")
    p.write_bytes(gzip.compress(data) if gz else data)
    try:
        a = read_idx(p)
    except DataError as err:
        assert str(p) in str(err)
    else:
        assert isinstance(a, np.ndarray)


def test_bit_flips_in_a_model_file_are_model_file_errors(tmp_path):
    p = model_io.save_npz(tmp_path / "m.npz", model_io.MODEL_FORMAT, {"x": 1},
                          {"w": np.arange(12).reshape(3, 4)})
    raw = p.read_bytes()
    rng = np.random.default_rng(0)
    for i in rng.choice(len(raw), size=min(len(raw), 120), replace=False):
        b = bytearray(raw)
        b[i] ^= 1 << int(rng.integers(8))
        p.write_bytes(bytes(b))
        try:
            model_io.load_npz(p, model_io.MODEL_FORMAT)
        except model_io.ModelFileError:
            pass
    for n in (0, 1, 30, len(raw) // 2, len(raw) - 1):  # zero-byte and truncated
        p.write_bytes(raw[:n])
        with pytest.raises(model_io.ModelFileError, match="m.npz"):
            model_io.load_npz(p, model_io.MODEL_FORMAT)


def test_load_json_damaged(tmp_path):
    p = tmp_path / "results.json"
    for text in ("", "{", "[1, 2]", "\xff"):
        p.write_text(text, errors="surrogateescape") if text != "\xff" else p.write_bytes(
            b"\xff\xfe")
        with pytest.raises(model_io.ModelFileError, match="results.json"):
            model_io.load_json(p)
    p.write_text(json.dumps({"a": 1}))
    assert model_io.load_json(p) == {"a": 1}


def test_stale_temp_files_are_removed(tmp_path):
    ours = [tmp_path / "model.npz.abc123.tmp", tmp_path / "results.csv.tmp",
            tmp_path / "train.json.x.tmp"]
    theirs = tmp_path / "notes.tmp"
    for f in (*ours, theirs):
        f.write_text("x")
    assert sorted(model_io.remove_stale_temp(tmp_path)) == sorted(ours)
    assert theirs.exists()


def test_zip_member_damage_is_named(tmp_path):
    p = model_io.save_npz(tmp_path / "c.npz", model_io.CHECKPOINT_FORMAT, {}, {"a": [1]})
    with zipfile.ZipFile(p, "a") as z, pytest.warns(UserWarning, match="Duplicate"):
        z.writestr("meta.npy", b"garbage")  # a second, damaged meta member
    with pytest.raises(model_io.ModelFileError, match="c.npz"):
        model_io.load_npz(p, model_io.CHECKPOINT_FORMAT)
