"""``lavalab compile``: an STDP network (or a trained model) compiled for Loihi: design
rules, core mapping, memory and per-layer energy."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace

from lavalab.cli import args as a
from lavalab.cli.output import print_rows
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    """Register ``lavalab compile``."""
    co = sub.add_parser("compile", help="compile for Loihi: design rules, core mapping, "
                        "memory, per-layer energy")
    co.add_argument("--network", action=a.Given, choices=a.KINDS, default="diehl-cook")
    co.add_argument("--neurons", action=a.Given, type=a.positive("--neurons", 3600), default=100)
    co.add_argument("--rule", action=a.Given, choices=a.RULES, default=None)
    a.add_one_spike(co)
    a.add_init(co)
    co.add_argument("--weight-bits", action=a.Given,
                    type=a.positive("--weight-bits", 32), default=8,
                    help="2..16, or 32 = float (default 8)")
    co.add_argument("--neuron-bits", action=a.Given,
                    type=a.positive("--neuron-bits", 24), default=None,
                    help="quantize v, v_th, theta to this many bits (default: Loihi's 24-bit v)")
    co.add_argument("--rounding", action=a.Given, choices=a.ROUNDING_MODES, default="stochastic")
    co.add_argument("--timesteps", action=a.Given,
                    type=a.positive("--timesteps", 100000), default=None)
    co.add_argument("--baseline", action=a.Given,
                    type=a.positive("--baseline", 100000), default=None,
                    help="T0 for --enhancement (default: the network's 350)")
    co.add_argument("--enhancement", action=a.Given,
                    choices=a.LazyChoices("lavalab.compile.enhance", "POLICIES"),
                    default="none")
    co.add_argument("--dt", action=a.Given, type=a.real("--dt", 1e-6, 1e3), default=1.0,
                    help="step size in ms (default 1)")
    co.add_argument("--target", choices=tuple(TARGETS), default="loihi1")
    co.add_argument("--neurons-per-core", type=a.positive("--neurons-per-core", 10**6),
                    default=None, help="force this partition size (default: as few cores "
                    "as the limits allow)")
    co.add_argument("--learning", action="store_true", help="check on-chip learning too")
    # the parameters that decide whether on-chip learning passes
    co.add_argument("--tau-theta", type=a.real("--tau-theta", 1e-9, math.inf, True), default=None,
                    help="adaptive-threshold decay time constant in ms (inf = no decay); "
                    "Diehl & Cook's 1e7 ms is not a 12-bit Loihi decay")
    co.add_argument("--t-ref", type=a.real("--t-ref", 0.0, 1e6), default=None,
                    help="refractory period of the excitatory neurons in ms")
    co.add_argument("--eta-pre", type=a.real("--eta-pre", 1e-12, math.inf), default=None,
                    help="STDP depression rate (weight units per trace unit)")
    co.add_argument("--eta-post", type=a.real("--eta-post", 1e-12, math.inf), default=None,
                    help="STDP potentiation rate (weight units per trace unit)")
    co.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    co.add_argument("--samples", type=a.positive("--samples", 10000), default=20,
                    help="MNIST test digits whose event counts price the energy (default 20)")
    co.add_argument("--model", default=None, help="a trained model (folder or .npz, e.g. "
                    "from a study's models/): compile its network and precision and price "
                    "its inference (overrides --network, --neurons, bits, timesteps)")
    co.add_argument("--seed", type=a.seed, default=0,
                    help="seed of weights, encoder, rounding")
    co.add_argument("--data-root", default=None)
    co.set_defaults(func=_cmd_compile)


def _apply_overrides(spec, args):
    """``spec`` with ``--tau-theta`` / ``--t-ref`` / ``--eta-pre`` / ``--eta-post`` applied
    (excitatory neurons, STDP)."""
    exc = spec.exc
    if args.tau_theta is not None:
        tau = args.tau_theta
        if not (tau > 0 or math.isinf(tau)):
            raise ValueError(f"--tau-theta={tau} must be > 0 ms (or inf)")
        exc = replace(exc, tau_theta_ms=tau)
    if args.t_ref is not None:
        exc = replace(exc, t_ref_ms=args.t_ref)
    st = spec.stdp
    for name in ("eta_pre", "eta_post"):
        v = getattr(args, name)
        if v is not None:
            if not v > 0:
                raise ValueError(f"--{name.replace('_', '-')}={v} must be > 0")
            st = replace(st, **{name: v})
    return replace(spec, exc=exc, stdp=st)


def _report_all_violations(first, spec, time, budget, args, v_range, model) -> int:
    """Print every violated design rule with its hint (not only ``first``); exit 3."""
    from lavalab.compile.pipeline import compile_network
    from lavalab.compile.rules import check_all_rules

    c = compile_network(spec, time, budget, args.target,
                        "none" if model else args.enhancement, learning=args.learning,
                        neurons_per_core=args.neurons_per_core, v_range_mv=v_range,
                        check=False)
    errs = check_all_rules(c.graph, c.fixed, c.core_map, args.target, args.learning) or [first]
    print(f"lavalab compile: {len(errs)} design rule(s) violated:", file=sys.stderr)
    for err in errs:
        print(f"  {err}\n    fix: {err.hint}", file=sys.stderr)
    return 3


def _cmd_compile(args: argparse.Namespace) -> int:
    import numpy as np

    from lavalab.compile.energy import estimate, memory_footprint
    from lavalab.compile.ir import PrecisionBudget, TimeBudget
    from lavalab.compile.pipeline import compile_network
    from lavalab.compile.quantize import quantize_weights
    from lavalab.compile.rules import DesignRuleError
    from lavalab.data import load_dataset
    from lavalab.engine import infer, make_net, run
    from lavalab.networks.snn import build, init_weights

    model = None
    if args.model:  # a trained model: its network, schedule, precision, weights and theta
        from lavalab.stdp import load_model

        ignored = [*a.given(args, "network", "neurons", "rule", "weight_bits", "neuron_bits",
                            "rounding", "timesteps", "baseline", "enhancement", "dt"),
                   *(d for d in ("init", "one_spike") if getattr(args, d) is not None)]
        if ignored:
            flags = ", ".join("--" + d.replace("_", "-") for d in ignored)
            raise ValueError(f"{flags} with --model: the model's own network, precision and "
                             "timesteps are compiled (drop them, or drop --model)")
        model = load_model(args.model)
        # the model's own dataset (its input size); digits is built in (no --data-root)
        dataset = model.meta["dataset"]
        test = load_dataset(dataset, "test", args.data_root)
        if args.samples > len(test):
            raise ValueError(f"--samples={args.samples} exceeds the {len(test)} test samples "
                             f"of {dataset} (the model's dataset)")
        spec = model.spec
        budget = model.budget
        time = TimeBudget(spec.present_steps, spec.dt_ms, spec.rest_steps)
        v_range = model.meta.get("v_range_mv")
        what = f"model {args.model} ({spec.kind}-{spec.n_exc})"
    else:
        if args.baseline is not None and args.enhancement == "none":
            raise ValueError(f"--baseline {args.baseline} is the T0 an --enhancement "
                             "compensates: give --enhancement (and a reduced --timesteps)")
        if args.enhancement != "none" and args.timesteps is None:
            raise ValueError(f"--enhancement {args.enhancement} compensates a reduced T: give "
                             "--timesteps below the baseline (default 350)")
        test = load_dataset("mnist", "test", args.data_root)
        spec = build(args.network, args.neurons, int(np.prod(test.shape)), rule=args.rule,
                     one_spike=args.one_spike,
                     **({} if args.init is None else {"w_init": args.init}))
        nb = args.neuron_bits
        budget = PrecisionBudget(weight_bits=args.weight_bits, neuron_bits=nb or 24,
                                 rounding=args.rounding, quantize_neurons=nb is not None)
        time = TimeBudget(args.timesteps or spec.present_steps, args.dt,
                          baseline_timesteps=args.baseline)
        v_range = None
        what = f"{args.network}-{args.neurons}"
        dataset = "mnist"
    print(f"lavalab compile: {what}, {budget.label}, "
          f"T={time.timesteps} dt={time.dt_ms} ms, target {args.target}, "
          f"{'on-chip learning' if args.learning else 'inference'}")
    spec = _apply_overrides(spec, args)
    try:
        c = compile_network(spec, time, budget, args.target,
                            "none" if model else args.enhancement, learning=args.learning,
                            neurons_per_core=args.neurons_per_core, v_range_mv=v_range)
    except DesignRuleError as err:
        return _report_all_violations(err, spec, time, budget, args, v_range, model)
    print(f"\ncore mapping: {c.core_map.cores_used} cores on {c.core_map.tiles_used} tiles")
    for note in c.core_map.search:
        print(f"  mapping search: {note}")
    print_rows(c.core_map.table(), ("core", "tile", "population", "neurons", "synapses",
                                     "memory_bits", "fan_in", "fan_out"))
    fp = memory_footprint(c.graph)
    print(f"\nmemory footprint M = Nw*Bw + sum Nn_k*Bn_k = {fp.weight_bits} + "
          f"{fp.neuron_bits} bits = {fp.bytes / 1024:.1f} kB")
    imgs = test.images[:args.samples]
    if model is None:
        starts = (load_dataset("mnist", "train", args.data_root).images
                  if c.spec.w_init == "samples" else None)
        w0 = quantize_weights(init_weights(c.spec, args.seed, starts), budget, args.seed)
        theta, weights = None, "untrained weights"
        net = make_net(c.spec, "fixed", w0, seed=args.seed, fixed=c.fixed)
        _, ev_train, _ = run(net, imgs, learn=True)
        phases = [("training", ev_train, True)]
    else:
        w0, theta, weights, phases = model.w, model.theta, "the trained model", []
    _, ev_inf = infer(make_net(c.spec, "fixed", w0, theta, seed=args.seed, fixed=c.fixed),
                      imgs)
    for name, ev, learn in [("inference", ev_inf, False), *phases]:
        rep = estimate(c.graph, c.core_map, ev, c.spec.sample_steps, args.energy_table,
                       learning=learn, input_steps=c.spec.present_steps)
        print(f"\n{name} energy per sample ({rep.table_name}; events: mean of "
              f"{len(imgs)} {dataset} test samples, {weights}): {rep.energy_uj:.3f} uJ, "
              f"latency {rep.latency_sample_us:.1f} us/sample "
              f"({rep.latency_step_ns:.0f} ns/step)")
        print_rows(rep.table(), ("name", "syn_ops", "neuron_updates", "active_updates",
                                  "spikes", "learning_updates", "energy_uj"))
        if rep.static_energy_uj is not None:
            print(f"  static energy (chip static power {rep.static_power_w * 1e3:.0f} mW x "
                  f"latency, not in the total): {rep.static_energy_uj:.3f} uJ/sample")
    return 0
