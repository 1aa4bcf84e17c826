r"""Deploy lowering: a trained model -> a network made only of Lava's stock Processes.

What runs on a Loihi chip is Lava's own Processes with neuro-core models in Intel's
lava-loihi (``LIF``, ``Dense``, ``LearningDense``, ...), never lavalab's CPU ProcessModels.
This pass lowers a trained fixed-point model (inference: weights and theta frozen) to
those, in two steps:

1. :func:`lower_to_stock` (pure, no Lava import) -> :class:`StockLowering`: the integer
   Var values of every stock Process plus the list of what could not be expressed exactly.
2. :func:`build_stock_network` -> :class:`StockNetwork`: the Lava Processes
   (``lava.proc.dense.process.Dense``, ``lava.proc.lif.process.LIF``), connected, with
   their open input and output ports, for a user to wire into their own Lava program.

``requires``: a fixed-point model (``FixedNetwork`` integers, 24-bit v of unit
resolution). ``ensures``: every Process comes from ``lava.proc``; with ``theta = 0``,
``ref_steps = 0`` and ``v_reset = 0`` the stock network equals the engine bit for bit
(lavalab's fixed LIF is Lava's ``PyLifModelBitAcc`` then, ``shared/LOIHI.md`` 2a);
otherwise the deviations are listed in :attr:`StockLowering.approximations`.

How each lavalab feature is lowered (stock ``LIF`` has one ``vth`` per population, reset
to 0 and no refractory period in its fixed-point model):

================= ==========================================================================
feature           lowering
================= ==========================================================================
per-neuron theta  ``theta_fold="scale"``: neuron ``i``'s input and inhibitory weights (and
                  bias) are scaled by ``s_i = V / (V + theta_i)`` with ``V = vth << 6``
                  and rounded to the nearest integer. For a current-based LIF with reset
                  to 0 this is exact up to that rounding (u and v are linear in the
                  input, so ``v_i > V + theta_i`` iff ``s_i v_i > V``), and the decay's
                  rounding toward zero at the smaller scale. ``"none"`` drops theta
                  (measures what the fold buys). Per-neuron ``vth`` does not exist in the
                  stock LIF (a ``(1,)`` Var); splitting the population by theta would
                  need one ``Dense`` per pair of sub-populations for the inhibition.
refractory        not expressible (stock fixed-point LIF has none): dropped, approximation
                  ``refractory_dropped``; ``exact=True`` refuses it with the design rule
                  ``stock_lif_no_refractory``.
reset != 0        stock LIF resets v to 0: approximation ``reset_to_zero``; ``exact=True``
                  refuses it (``stock_lif_reset_zero``).
per-sample reset  lowered exactly, on chip: stock ``LIFReset`` (``reset_interval`` = the
                  sample period, ``reset_offset = 1``: Lava's time starts at 1) zeroes u
                  and v at each sample's first step before the update, as lavalab's
                  neurons do; or (``reset="host"``) plain ``LIF`` whose u and v the host
                  sets to 0 between samples (``Var.set`` while paused).
one spike per     ``one_spike_infer`` (a population-wide choice per step at inference) has
step (inference)  no form: dropped, approximation ``one_spike_infer_dropped``;
                  ``exact=True`` refuses it (``one_spike_not_on_chip``).
v quantized       (``v_lsb > 0`` / ``v_bits < 24``, precision-study models) refused:
                  design rule ``neuron_state_fits``.
================= ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.compile.rules import DesignRuleError
from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed
from lavalab.networks.snn import FixedNetwork, NetworkSpec
from lavalab.networks.wiring import dc_inhibition_weights, lateral_inhibition_weights

__all__ = ["THETA_FOLDS", "RESETS", "StockLIF", "StockLowering", "StockNetwork", "lower_to_stock",
           "lower_model", "build_stock_network", "stock_process_modules",
           "stock_learning_rule", "stock_learning_rule_args", "stock_network"]

THETA_FOLDS = ("scale", "none")
RESETS = ("chip", "host")


@dataclass(frozen=True)
class StockLIF:
    """Arguments of one stock ``lava.proc.lif.process.LIF`` (fixed point).

    du, dv : 12-bit decay registers (u decays by ``4096 - (du + 1)``, v by ``4096 - dv``)
    vth : 17-bit threshold mantissa (compared as ``vth << 6``)
    bias_mant : per-neuron bias mantissa (13-bit signed), bias_exp : 0..7
    """

    n: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: int

    def __post_init__(self):
        from lavalab.fixed import check_int_range

        check_int_range("n", self.n, 1, 10**7)
        check_int_range("du", self.du, 0, spec.DECAY_MAX)
        check_int_range("dv", self.dv, 0, spec.DECAY_MAX)
        check_int_range("vth", self.vth, 0, spec.VTH_MAX)
        check_int_range("bias_exp", self.bias_exp, 0, spec.BIAS_EXP_MAX)
        b = np.asarray(self.bias_mant)
        if b.shape != (self.n,) or (b.size and not (
                spec.BIAS_MANT_MIN <= b.min() and b.max() <= spec.BIAS_MANT_MAX)):
            raise ValueError(f"bias_mant must be ({self.n},) integers in "
                             f"{spec.BIAS_MANT_MIN}..{spec.BIAS_MANT_MAX}")

    def kwargs(self, copies: int = 1) -> dict:
        """Keyword arguments of ``LIF(...)`` (``copies`` populations side by side)."""
        return dict(shape=(self.n * copies,), du=self.du, dv=self.dv, vth=self.vth,
                    bias_mant=np.tile(np.asarray(self.bias_mant, np.int32), copies),
                    bias_exp=self.bias_exp)


@dataclass(frozen=True, eq=False)
class StockLowering:
    """Var values of the stock network of one model (integers; weights ``(post, pre)``).

    w_in, exp_in : input -> exc ``Dense`` (0..255, exponent)
    exc, inh : the LIF populations (``inh`` None for tinySNN)
    w_ei, w_ie, w_lat : E->I (1:1), I->E (all but self), tinySNN E->E (all but self)
        ``Dense`` weights or None (none of them without inhibition), with their exponents
    present_steps, rest_steps : the sample schedule (host resets u, v between samples)
    approximations : names (with details) of what the stock Processes do not reproduce
        exactly; empty means bit-exact with the engine
    metadata : what was folded and how (JSON-able)
    """

    kind: str
    n_input: int
    n_exc: int
    w_in: np.ndarray
    exp_in: int
    exc: StockLIF
    inh: StockLIF | None
    w_ei: np.ndarray | None
    exp_ei: int
    w_ie: np.ndarray | None
    exp_ie: int
    w_lat: np.ndarray | None
    exp_lat: int
    present_steps: int
    rest_steps: int
    approximations: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)

    @property
    def sample_steps(self) -> int:
        return self.present_steps + self.rest_steps

    @property
    def exact(self) -> bool:
        return not self.approximations


def _stock_lif(name: str, p: AdaptiveLIFFixed, n: int, exact: bool, bias_scale=None
               ) -> tuple[StockLIF, list[str]]:
    approx = []
    v_bits, v_lsb = getattr(p, "v_bits", spec.UV_BITS), getattr(p, "v_lsb", 0)
    if v_bits != spec.UV_BITS or v_lsb != 0:
        raise DesignRuleError(
            "neuron_state_fits", (v_bits, v_lsb), (spec.UV_BITS, 0),
            f"{name}.v_bits={v_bits}, v_lsb={v_lsb}: the stock LIF has Loihi's 24-bit v of "
            "unit resolution (a precision-study model with quantized neurons cannot deploy)")
    if p.ref_steps:
        if exact:
            raise DesignRuleError(
                "stock_lif_no_refractory", p.ref_steps, 0,
                f"{name}.ref_steps={p.ref_steps}: Lava's stock fixed-point LIF has no "
                "refractory period (limit 0; train with t_ref_ms=0 or allow approximations)")
        approx.append(f"refractory_dropped: {name}.ref_steps={p.ref_steps} -> 0")
    if getattr(p, "one_spike_infer", False):
        if exact:
            raise DesignRuleError(
                "one_spike_not_on_chip", True, False,
                f"{name}.one_spike_infer=True: one spike per step at inference has no form "
                "on Loihi (limit: off; deploy a model assigned with lavalab assign "
                "--no-one-spike-infer, or allow approximations)")
        approx.append(f"one_spike_infer_dropped: {name} runs without one spike per step "
                      "(its labels were assigned with it: lavalab assign "
                      "--no-one-spike-infer gives matching ones)")
    if p.v_reset:
        if exact:
            raise DesignRuleError(
                "stock_lif_reset_zero", p.v_reset, 0,
                f"{name}.v_reset={p.v_reset}: Lava's stock LIF resets v to 0 (limit 0; "
                "train with v_reset=0 or allow approximations)")
        approx.append(f"reset_to_zero: {name}.v_reset={p.v_reset} -> 0")
    bias = np.full(n, p.bias_mant, np.int64)
    if bias_scale is not None and p.bias_mant:
        bias = np.rint(bias * bias_scale).astype(np.int64)
    lif = StockLIF(n=n, du=p.decay_u - spec.DU_OFFSET, dv=p.decay_v - spec.DV_OFFSET,
                   vth=p.vth, bias_mant=bias, bias_exp=p.bias_exp)
    return lif, approx


def lower_to_stock(s: NetworkSpec, f: FixedNetwork, w, theta, theta_fold: str = "scale",
                   exact: bool = False, inhibition: bool = True) -> StockLowering:
    """Lower a fixed-point network with frozen weights ``w`` (n_exc, n_input) and theta
    (n_exc,) to stock-Process Var values (see the module docstring).

    ``exact=True`` raises :class:`DesignRuleError` (rules ``stock_lif_no_refractory``,
    ``stock_lif_reset_zero``, ``stock_theta_exact``) instead of approximating.
    ``inhibition=False`` drops the inhibition (a feed-forward network, what netx HDF5 can
    hold), named as the approximation ``inhibition_dropped``.
    """
    if theta_fold not in THETA_FOLDS:
        raise ValueError(f"theta_fold={theta_fold!r} is not one of {THETA_FOLDS}")
    if not isinstance(f, FixedNetwork):
        raise ValueError("lower_to_stock needs a fixed-point model (FixedNetwork integers); "
                         "train with --precision fixed")
    n, m = s.n_exc, s.n_input
    w = np.asarray(w)
    theta = np.zeros(n, np.int64) if theta is None else np.asarray(theta)
    if w.shape != (n, m) or theta.shape != (n,):
        raise ValueError(f"weights {w.shape} / theta {theta.shape} do not match the network "
                         f"({n}, {m}) / ({n},)")
    if not (np.issubdtype(w.dtype, np.integer) and np.issubdtype(theta.dtype, np.integer)):
        raise ValueError("weights and theta must be integers (a fixed-point model)")
    approx: list[str] = []
    vth_eff = f.exc.vth << spec.VTH_SHIFT
    scale = np.ones(n)
    if theta.any():
        if exact:
            raise DesignRuleError(
                "stock_theta_exact", int(np.abs(theta).max()), 0,
                f"theta up to {int(np.abs(theta).max())} v units: the stock LIF has one vth "
                "per population; folding theta into the weights rounds them (limit 0)")
        if theta_fold == "scale":
            scale = vth_eff / (vth_eff + theta.astype(np.float64))
            approx.append("theta_folded_into_weights: input and inhibitory weights of neuron "
                          "i scaled by vth/(vth+theta_i) and rounded to integers")
        else:
            approx.append("theta_dropped: per-neuron theta ignored (theta_fold='none')")
    w_in = np.clip(np.rint(w * scale[:, None]), 0, spec.WEIGHT_MAX).astype(np.int64)
    exc, a = _stock_lif("exc", f.exc, n, exact, scale)
    approx += a
    inh = w_ei = w_ie = w_lat = None
    if not inhibition:
        if exact:
            raise DesignRuleError("stock_inhibition_kept", "dropped", "kept",
                                  "dropping the inhibition is not exact")
        approx.append("inhibition_dropped: feed-forward input -> exc only")
    elif s.has_inh:
        inh, a = _stock_lif("inh", f.inh, n, exact)
        approx += a
        m_ei, m_ie = dc_inhibition_weights(n, f.w_ei, f.w_ie)
        w_ei = m_ei.astype(np.int64)
        w_ie = np.rint(m_ie * scale[:, None]).astype(np.int64)
    else:
        w_lat = np.rint(lateral_inhibition_weights(n, f.w_lat) * scale[:, None]).astype(np.int64)
    meta = {
        "lowering": "lavalab.deploy.stock", "kind": s.kind, "theta_fold": theta_fold,
        "inhibition": inhibition,
        "theta_range_v_units": [int(theta.min()), int(theta.max())] if n else [0, 0],
        "weight_scale_range": [float(scale.min()), float(scale.max())],
        "vth_v_units": int(vth_eff), "approximations": list(approx),
        "per_sample_reset": "host sets u, v of every LIF to 0 between samples",
    }
    return StockLowering(
        kind=s.kind, n_input=m, n_exc=n, w_in=w_in, exp_in=f.exp_in, exc=exc, inh=inh,
        w_ei=w_ei, exp_ei=f.exp_ei, w_ie=w_ie, exp_ie=f.exp_ie, w_lat=w_lat,
        exp_lat=f.exp_lat, present_steps=s.present_steps, rest_steps=s.rest_steps,
        approximations=tuple(approx), metadata=meta)


def lower_model(model, theta_fold: str = "scale", exact: bool = False,
                inhibition: bool = True) -> StockLowering:
    """:func:`lower_to_stock` of a loaded model (:func:`lavalab.stdp.load_model`)."""
    if model.precision != "fixed":
        raise ValueError(f"model precision={model.precision!r}: deploying to Lava's stock "
                         "Processes needs a fixed-point model (train with --precision fixed)")
    return lower_to_stock(model.spec, model.fixed, model.w, model.theta, theta_fold, exact,
                          inhibition)


@dataclass(frozen=True, eq=False)
class StockNetwork:
    """Connected stock Lava Processes of a :class:`StockLowering`.

    processes : name -> Process (``dense_in``, ``exc``, and ``inh``, ``dense_ei``,
        ``dense_ie`` for D&C or ``dense_lat`` for tinySNN)
    s_in : ``dense_in.s_in``, the input spikes (n_input,): connect your spike source here
    s_out : ``exc.s_out``, the excitatory spikes (n_exc,): the network's output
    inh_s_out : ``inh.s_out`` or None
    lifs : the LIF processes (``LIFReset`` with ``reset="chip"``)
    reset : ``"chip"`` (LIFReset resets every sample period) or ``"host"`` (the caller
        sets u and v of ``lifs`` to 0 between samples)
    copies : independent copies of the network side by side (block-diagonal weights): copy
        ``c`` owns inputs ``c*n_input..`` and neurons ``c*n_exc..``; 1 is the network itself
    """

    lowering: StockLowering
    processes: dict
    s_in: object
    s_out: object
    inh_s_out: object | None
    lifs: tuple
    copies: int = 1
    reset: str = "chip"


def stock_learning_rule_args(st, seed: int = 0) -> dict:
    """Keyword arguments of Lava's ``Loihi2FLearningRule`` for STDP1
    (:class:`~lavalab.dynamics.stdp.STDPFixed`), JSON-able: the product-of-traces string
    of :func:`lavalab.dynamics.stdp.loihi_rule_string`, trace impulses and time constants
    (``tau = -1 / ln(1 - decay / 4096)``), learning every step (``t_epoch = 1``).
    Raises ``ValueError`` for STDP2 (no learning-engine form)."""
    import math

    from lavalab.dynamics.stdp import loihi_rule_string

    rule = loihi_rule_string(st)

    def tau(decay):
        if decay >= spec.DECAY_UNITY:
            raise ValueError(f"trace decay {decay} (the trace lives one step) has no Lava "
                             "learning-rule time constant")
        return -1.0 / math.log(1.0 - decay / spec.DECAY_UNITY) if decay else 2**16 - 1

    return dict(dw=rule, x1_impulse=int(st.impulse_pre), x1_tau=tau(st.decay_pre),
                y1_impulse=int(st.impulse_post), y1_tau=tau(st.decay_post), t_epoch=1,
                rng_seed=int(seed))


def stock_learning_rule(st, seed: int = 0):
    """STDP1 as Lava's ``Loihi2FLearningRule`` (:func:`stock_learning_rule_args`)."""
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule

    return Loihi2FLearningRule(**stock_learning_rule_args(st, seed))


def build_stock_network(low: StockLowering, name: str = "lavalab", copies: int = 1,
                        reset: str = "chip", learning_rule=None) -> StockNetwork:
    """The Lava Processes of ``low`` (all from ``lava.proc``), connected; the input port
    ``s_in`` and the output ports are left open for the caller.

    ``copies > 1`` puts that many independent copies of the network into the same
    Processes (block-diagonal weights), to simulate several samples at once; each copy's
    spikes equal the single network's (Dense sums only the active inputs' columns).

    ``learning_rule`` (e.g. :func:`stock_learning_rule` of the model's STDP1) makes the
    input synapses a stock ``LearningDense`` fed back with the excitatory spikes: on-chip
    STDP. Theta stays frozen (folded) and D&C's weight normalisation has no stock form:
    both are named in ``StockLowering.approximations`` only for inference, so a learning
    network's deviations are: no homeostasis, no normalisation.
    """
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF, LIFReset

    from lavalab.fixed import check_int_range

    check_int_range("copies", copies, 1, 1024)
    if reset not in RESETS:
        raise ValueError(f"reset={reset!r} is not one of {RESETS}")

    def lif(p, tag):
        if reset == "host":
            return LIF(**p.kwargs(copies), name=f"{name}.{tag}")
        return LIFReset(**p.kwargs(copies), reset_interval=low.sample_steps, reset_offset=1,
                        name=f"{name}.{tag}")

    def dense(wts, exp, tag):
        wts = np.kron(np.eye(copies, dtype=np.int64), wts) if copies > 1 else wts
        return Dense(weights=np.asarray(wts, np.int32), num_weight_bits=spec.WEIGHT_BITS,
                     weight_exp=exp, name=f"{name}.{tag}")

    if learning_rule is not None:
        from lava.proc.dense.process import LearningDense
        from lava.utils.weightutils import SignMode

        if copies != 1:
            raise ValueError("a learning network is built as one copy (copies=1)")
        din = LearningDense(weights=np.asarray(low.w_in, float), learning_rule=learning_rule,
                            sign_mode=SignMode.EXCITATORY, weight_exp=low.exp_in,
                            name=f"{name}.dense_in")
    else:
        din = dense(low.w_in, low.exp_in, "dense_in")
    procs = {"dense_in": din, "exc": lif(low.exc, "exc")}
    procs["dense_in"].a_out.connect(procs["exc"].a_in)
    if learning_rule is not None:
        procs["exc"].s_out.connect(procs["dense_in"].s_in_bap)
    lifs = [procs["exc"]]
    inh_out = None
    if low.inh is not None:
        procs["inh"] = lif(low.inh, "inh")
        procs["dense_ei"] = dense(low.w_ei, low.exp_ei, "dense_ei")
        procs["dense_ie"] = dense(low.w_ie, low.exp_ie, "dense_ie")
        procs["exc"].s_out.connect(procs["dense_ei"].s_in)
        procs["dense_ei"].a_out.connect(procs["inh"].a_in)
        procs["inh"].s_out.connect(procs["dense_ie"].s_in)
        procs["dense_ie"].a_out.connect(procs["exc"].a_in)
        lifs.append(procs["inh"])
        inh_out = procs["inh"].s_out
    elif low.w_lat is not None:
        procs["dense_lat"] = dense(low.w_lat, low.exp_lat, "dense_lat")
        procs["exc"].s_out.connect(procs["dense_lat"].s_in)
        procs["dense_lat"].a_out.connect(procs["exc"].a_in)
    return StockNetwork(low, procs, procs["dense_in"].s_in, procs["exc"].s_out, inh_out,
                        tuple(lifs), copies, reset)


def stock_network(model, theta_fold: str = "scale", reset: str = "chip",
                  learning: bool = False) -> StockNetwork:
    """One call for Lava users: a loaded model (:func:`lavalab.stdp.load_model`) as
    connected stock Processes with open ports ``s_in`` / ``s_out`` (``learning``: the
    input synapses learn STDP1 in a stock ``LearningDense``)."""
    low = lower_model(model, theta_fold=theta_fold)
    rule = stock_learning_rule(model.fixed.stdp, model.seed) if learning else None
    return build_stock_network(low, reset=reset, learning_rule=rule)


def stock_process_modules(processes) -> dict[str, str]:
    """Process name -> the module of its class (to check that all come from ``lava.``)."""
    return {p.name: type(p).__module__ for p in processes}
