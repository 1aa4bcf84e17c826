"""Learning synapses: three STDP rules, float and Loihi fixed point, and D&C normalisation.

Weights ``w`` have shape ``(..., n_post, n_pre)`` (any leading batch axes); pre traces
``x_pre`` ``(..., n_pre)``, post traces ``x_post`` ``(..., n_post)``. Each concern is written
once for both precisions where they share it, with its math and precision table:

- :mod:`~lavalab.dynamics.stdp.params` -- parameters (physical units, per-step float,
  Loihi integers), their validation, the state, the kernels' argument tuples;
- :mod:`~lavalab.dynamics.stdp.traces` -- trace decay and impulses, spike counts and
  window flags, the sample / window schedule;
- :mod:`~lavalab.dynamics.stdp.rules` -- the learning rules (STDP1, STDP2, triplet), the
  step kernels and the functional steps, Loihi expressibility;
- :mod:`~lavalab.dynamics.stdp.live` -- the engine's fixed step on live elements only;
- :mod:`~lavalab.dynamics.stdp.normalise` -- Diehl & Cook 2015's weight normalisation;
- :mod:`~lavalab.dynamics.stdp.synapse` -- the synapse output ``W s``.
"""

from lavalab.dynamics.stdp.live import stdp_fixed_live_step, stdp_live_sync
from lavalab.dynamics.stdp.normalise import (
    normalize_fixed,
    normalize_fixed_dirty_kernel,
    normalize_fixed_kernel,
    normalize_float,
    normalize_float_kernel,
)
from lavalab.dynamics.stdp.params import (
    ACC_FRAC,
    NORM_TOTAL_MAX,
    RULES,
    W_MAX_ENGINE,
    STDPFixed,
    STDPFloat,
    STDPParams,
    STDPState,
    fixed_args,
    float_args,
    init_stdp_state,
)
from lavalab.dynamics.stdp.rules import (
    W_FACTOR_SHIFT,
    WEIGHT_STREAM,
    loihi_rule_string,
    stdp_fixed_kernel,
    stdp_fixed_step,
    stdp_float_kernel,
    stdp_float_step,
    step_stdp_fixed,
    step_stdp_float,
)
from lavalab.dynamics.stdp.synapse import (
    accumulate_kernel,
    accumulate_rows_kernel,
    synapse_output_fixed,
    synapse_output_float,
    weight_exp_s,
)
from lavalab.dynamics.stdp.traces import TRACE_FRAC, TRACE_STREAM, schedule_flags_s

__all__ = [
    "RULES", "STDPParams", "STDPFloat", "STDPFixed", "STDPState", "init_stdp_state",
    "step_stdp_float", "step_stdp_fixed", "normalize_float", "normalize_fixed",
    "loihi_rule_string", "synapse_output_float", "synapse_output_fixed", "accumulate_kernel",
    "accumulate_rows_kernel",
    "stdp_fixed_kernel", "stdp_float_kernel", "stdp_fixed_step", "stdp_float_step",
    "stdp_fixed_live_step", "stdp_live_sync", "normalize_fixed_dirty_kernel",
    "normalize_fixed_kernel", "normalize_float_kernel",
    "fixed_args", "float_args",
    "weight_exp_s", "schedule_flags_s", "W_MAX_ENGINE", "NORM_TOTAL_MAX", "W_FACTOR_SHIFT",
    "ACC_FRAC", "TRACE_FRAC", "TRACE_STREAM", "WEIGHT_STREAM",
]
