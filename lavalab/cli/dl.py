"""The supervised (lava-dl SLAYER) networks: ``lavalab dl train | evaluate | export`` and
``lavalab study latency``. Registered by :func:`lavalab.cli.main.build_parser`
(:func:`add_parser`, :func:`add_study_parser`); errors are ValueError / ModelFileError,
printed as one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from lavalab.cli import args as a
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS

__all__ = ["add_parser", "add_study_parser"]

#: Network variants (lavalab.networks.supervised.METHODS): seed002 is Yao et al. 2024's MRF + Omega.
_METHODS = a.LazyChoices("lavalab.networks.supervised", "METHODS")


def _add_network_args(p: argparse.ArgumentParser, study: bool = False) -> None:
    p.add_argument("--hidden", type=a.int_list("--hidden", 1, 4096, repeats=True),
                   default=(256,) if study else (512, 512),
                   help="hidden layer widths, e.g. 512,512")
    p.add_argument("--encoding", choices=a.LazyChoices("lavalab.networks.supervised", "ENCODINGS"),
                   default="direct",
                   help="input encoding of the pixels")
    p.add_argument("--tau-u-ms", type=a.real("--tau-u-ms", 1e-3, math.inf, True), default=1.0,
                   help="synaptic current time constant (ms)")
    p.add_argument("--tau-v-ms", type=a.real("--tau-v-ms", 1e-3, math.inf, True), default=1.0,
                   help="membrane time constant (ms)")
    p.add_argument("--threshold", type=a.real("--threshold", 1e-3, 1e3), default=1.0,
                   help="spike threshold of the CUBA neurons")
    p.add_argument("--dt-ms", type=a.real("--dt-ms", 1e-3, 1e3), default=1.0,
                   help="step size (ms)")
    p.add_argument("--theta", type=a.real("--theta", 1e-3, 3.0), default=0.5, action=a.Given,
                   help="radian factor of Omega, Yao et al. 2024's projection "
                   "(methods seed002 and omega)")
    p.add_argument("--mrf-window", type=a.integer("--mrf-window", 1, 15), default=3,
                   action=a.Given,
                   help="window of neighbouring neurons of Yao et al. 2024's "
                   "multi-receptive-field (MRF) membrane potential")
    p.add_argument("--mrf-dilations", type=a.int_list("--mrf-dilations", 1, 64, repeats=True),
                   default=(1, 2), action=a.Given,
                   help="one dilation per MRF group (default 1,2)")
    p.add_argument("--epochs", type=a.integer("--epochs", 1, 1000), default=2 if study else 10,
                   help="training epochs")
    p.add_argument("--batch-size", type=a.integer("--batch-size", 1, 4096), default=128,
                   help="samples per Adam step")
    p.add_argument("--lr", type=a.real("--lr", 1e-8, 1.0), default=2e-3,
                   help="Adam learning rate")
    p.add_argument("--train-samples", type=a.integer("--train-samples", 1, 60000),
                   default=10000 if study else 60000)
    p.add_argument("--threads", type=a.integer("--threads", 1, 64), default=1,
                   help="torch threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parser(sub) -> None:
    """``lavalab dl ...``."""
    dl = sub.add_parser("dl", help="gradient-trained SNNs (lava-dl SLAYER; netx to Lava)")
    dsub = dl.add_subparsers(dest="dl_command", metavar="DL_COMMAND")
    dsub.required = True
    tr = dsub.add_parser("train", help="train a SLAYER CUBA network (surrogate gradients)")
    tr.add_argument("--out", required=True, help="model file to write (.npz)")
    tr.add_argument("--method", choices=_METHODS, default="cuba",
                    help="cuba (plain), seed002 (Yao et al. 2024: MRF + Omega), mrf "
                    "(MRF only), omega (Omega only)")
    tr.add_argument("--timesteps", type=a.integer("--timesteps", 1, 64), default=1)
    tr.add_argument("--seed", type=a.seed, default=0,
                    help="seed of the weights and the batch order")
    tr.add_argument("--checkpoint", default=None,
                    help="checkpoint file written after every epoch (default: OUT.ckpt); "
                    "a rerun resumes after its last finished epoch; removed once the model "
                    "is written")
    _add_network_args(tr)
    tr.set_defaults(func=_cmd_train)
    ev = dsub.add_parser("evaluate", help="accuracy, spikes, energy of a trained model in "
                         "torch and/or on Lava fixed_pt (netx)")
    ev.add_argument("model")
    ev.add_argument("--backend", choices=("torch", "lava", "both"), default="torch")
    ev.add_argument("--samples", type=a.integer("--samples", 1, 10000), default=10000,
                    help="MNIST test digits from the start (default 10000)")
    ev.add_argument("--lava-samples", type=a.integer("--lava-samples", 1, 10000), default=None,
                    help="with --backend both: the first N digits on Lava (default --samples)")
    ev.add_argument("--no-omega", action="store_true",
                    help="drop Omega (the deployable variant of a --method seed002 "
                    "model)")
    ev.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    ev.add_argument("--target", choices=tuple(TARGETS), default="loihi2")
    ev.add_argument("--json", default=None, help="also write the results to this file")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(func=_cmd_evaluate)
    ex = dsub.add_parser("export", help="write the netx HDF5 of a trained model")
    ex.add_argument("model")
    ex.add_argument("--out", required=True, help="netx file to write (.net / .h5)")
    ex.add_argument("--force", action="store_true", help="replace an existing --out")
    ex.set_defaults(func=_cmd_export)


def add_study_parser(stsub) -> None:
    """``lavalab study latency``."""
    la = stsub.add_parser("latency", help="accuracy, spikes, energy, latency vs T of SLAYER "
                          "CUBA and Yao et al. 2024 (MRF, Omega) networks (MNIST)")
    la.add_argument("--timesteps", type=a.int_list("--timesteps", 1, 64), default=(1, 2, 4, 8))
    la.add_argument("--methods", type=a.choice_list("--methods", _METHODS),
                    default=["cuba", "seed002", "mrf"],
                    help="comma-separated network variants, as dl train --method")
    la.add_argument("--seeds", type=a.int_list("--seeds", 0, a.SEED_MAX), default=(0, 1, 2),
                    help="seeds, comma-separated")
    la.add_argument("--test-samples", type=a.integer("--test-samples", 1, 10000), default=10000)
    la.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    la.add_argument("--target", choices=tuple(TARGETS), default="loihi2")
    la.add_argument("--out", default="runs/latency")
    _add_network_args(la, study=True)
    la.set_defaults(func=_cmd_study_latency)


def _check_method_options(args, methods) -> None:
    """Refuse Omega / MRF options that none of ``methods`` uses (they would be ignored)."""
    uses = {"theta": ("seed002", "omega"), "mrf_window": ("seed002", "mrf"),
            "mrf_dilations": ("seed002", "mrf")}
    for dest in a.given(args, *uses):
        if not set(methods) & set(uses[dest]):
            flag = "--" + dest.replace("_", "-")
            which = "--method" if len(methods) == 1 else "--methods"
            raise ValueError(f"{flag} applies to the methods {', '.join(uses[dest])} only; "
                             f"{which} is {','.join(methods)}")


def _model_file(path: str) -> None:
    """Refuse a folder where a model file (.npz of dl train / import) is expected."""
    from pathlib import Path

    if Path(path).is_dir():
        raise ValueError(f"{path} is a folder: give the model file (.npz) that "
                         "lavalab dl train or lavalab import wrote")


def _spec(args, method: str):
    from lavalab.networks.supervised import CubaParams, MRFSpec, SupervisedSpec

    mrf = (MRFSpec(args.mrf_window, tuple(args.mrf_dilations)) if method in ("seed002", "mrf")
           else None)
    return SupervisedSpec(hidden=tuple(args.hidden), timesteps=args.timesteps,
                          encoding=args.encoding,
                          neuron=CubaParams(args.tau_u_ms, args.tau_v_ms, args.threshold,
                                            args.dt_ms),
                          mrf=mrf, omega_theta=args.theta if method in ("seed002", "omega")
                          else None)


def _cmd_train(args) -> int:
    args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    if args.checkpoint:
        args.hold_out(args.checkpoint, folder=False, flag="--checkpoint")
    from dataclasses import asdict

    from lavalab.timing import JobClock

    clock = JobClock()
    from lavalab import validate
    from lavalab.data import load_dataset
    from lavalab.supervised.train import TrainConfig, save_model, train

    _check_method_options(args, [args.method])
    validate.out_file(args.out)
    if args.checkpoint is not None:
        validate.out_file(args.checkpoint, flag="--checkpoint")
    spec = _spec(args, args.method)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      seed=args.seed, train_samples=args.train_samples, threads=args.threads)
    tr = load_dataset("mnist", "train")
    ck = args.checkpoint or f"{args.out}.ckpt"
    net, hist = train(spec, cfg, tr.images, tr.labels, checkpoint=ck,
                      progress=not args.quiet, clock=clock,
                      log=lambda r: print(f"epoch {r['epoch']}: loss {r['loss']:.4f}, train "
                                          f"accuracy {r['train_accuracy']:.2f} %, "
                                          f"{r['seconds']:.0f} s", flush=True))
    timing = clock.fields(work="train")  # this run's epochs (lavalab.timing)
    path = save_model(args.out, net, {"history": hist, "config": asdict(cfg),
                                      "dataset": "mnist", "timing": timing})
    Path(ck).unlink(missing_ok=True)  # the model is written: nothing left to resume
    rate = timing["samples_per_s"]
    print(f"wrote {path} ({spec.method}, hidden {list(spec.hidden)}, T={spec.timesteps}); "
          f"set-up {timing['setup_s']:.1f} s, training {timing['train_s']:.1f} s"
          + (f" ({rate:.1f} samples/s)" if rate else ""))
    clock.finish()
    return 0


def _cmd_evaluate(args) -> int:
    if args.json:
        args.hold_out(args.json, folder=False, flag="--json")  # until the end (runlock)
    from lavalab.timing import JobClock

    clock = JobClock()
    from lavalab.compile.supervised import analyse_supervised, lower_supervised
    from lavalab.data import load_dataset
    from lavalab.supervised.evaluate import agreement, evaluate_lava, evaluate_torch
    from lavalab.supervised.train import load_model

    if args.lava_samples is not None and args.backend != "both":
        raise ValueError(f"--lava-samples applies to --backend both only (backend is "
                         f"{args.backend}: --samples sets how many digits it runs)")
    if args.lava_samples is not None and args.lava_samples > args.samples:
        raise ValueError(f"--lava-samples={args.lava_samples} exceeds --samples="
                         f"{args.samples} (the Lava run is the first digits of the torch run)")
    if args.json is not None:
        from lavalab import validate

        validate.out_file(args.json, "--json")
    _model_file(args.model)
    net, _ = load_model(args.model)
    if args.no_omega and net.spec.omega_theta is None:
        raise ValueError(f"--no-omega: {args.model} has no Omega to drop (method "
                         f"{net.spec.method}; only seed002 and omega models have one)")
    if args.no_omega and net.spec.omega_theta is not None:
        from dataclasses import replace

        from lavalab.supervised.model import SupervisedNet

        state = net.state_dict()
        net = SupervisedNet(replace(net.spec, omega_theta=None))
        net.load_state_dict(state)
        net.eval()
    te = load_dataset("mnist", "test")
    if net.spec.n_input != te.images[0].size:
        raise ValueError(f"{args.model}: the network has {net.spec.n_input} inputs, MNIST "
                         f"test images have {te.images[0].size} pixels (dl evaluate tests on "
                         "MNIST)")
    n_classes = int(te.labels.max()) + 1
    if net.spec.n_output != n_classes:
        raise ValueError(f"{args.model}: the network has {net.spec.n_output} outputs, MNIST "
                         f"has {n_classes} classes (its accuracy there would mean nothing)")
    x, y = te.images[:args.samples], te.labels[:args.samples]
    doc, res = {"model": args.model, "spec_method": net.spec.method}, {}
    if args.backend in ("torch", "both"):
        with clock.work():
            res["torch"] = evaluate_torch(net, x, y)
    if args.backend in ("lava", "both"):
        n = args.lava_samples or args.samples
        with clock.work():
            res["lava"] = evaluate_lava(net, x[:n], y[:n], progress=not args.quiet)
    # set-up before the first evaluation (lavalab.timing); each backend's own infer_s,
    # cpu_s and samples_per_s are in its summary
    doc.update(setup_s=clock.setup_s, setup_cpu_s=clock.setup_cpu_s)
    for k, r in res.items():
        doc[k] = r.summary()
        print(f"{k}: accuracy {r.accuracy:.2f} % on {len(r.labels)} MNIST test digits, "
              f"spikes/sample {r.spikes_per_sample()}, {r.seconds:.1f} s")
    if len(res) == 2:
        n = len(res["lava"].labels)
        sub = evaluate_torch(net, x[:n], y[:n])
        doc["agreement"] = agreement(sub, res["lava"])
        print(f"torch vs lava on the first {n} digits: {doc['agreement']}")
    first = res.get("torch") or res["lava"]
    row, rep = analyse_supervised(lower_supervised(net), first.events, args.energy_table,
                                  args.target)
    doc["analysis"] = row
    doc["energy_report"] = rep.to_dict()
    print(f"per inference ({args.energy_table}, {args.target}): {row['energy_infer_uJ']:.4f} uJ, "
          f"{row['latency_infer_us']:.2f} us ({row['sample_steps']} steps), "
          f"{row['cores']} cores, {row['memory_kB']:.1f} kB; design rules: "
          f"{'ok' if row['loihi_ok'] else row['loihi_rule']}")
    if args.json:
        from lavalab import model_io

        model_io.write_report(args.json, "lavalab-dl-eval-report",
                              json.loads(json.dumps(doc, default=float)))
    clock.finish()
    return 0


def _cmd_export(args) -> int:
    args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    from lavalab import validate
    from lavalab.supervised.evaluate import export_netx
    from lavalab.supervised.train import load_model

    validate.out_file(args.out)
    if Path(args.out).exists() and not args.force:
        raise ValueError(f"--out {args.out} exists; give --force to replace it")
    _model_file(args.model)
    net, _ = load_model(args.model)
    path = export_netx(net, args.out)
    print(f"wrote {path} (netx HDF5; load with lava.lib.dl.netx.hdf5.Network(..., "
          f"input_message_bits={net.spec.input_message_bits}, "
          f"reset_interval={net.spec.timesteps + len(net.spec.hidden) + 1}))")
    return 0


def _cmd_study_latency(args) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab import validate
    from lavalab.networks.supervised import CubaParams
    from lavalab.study.latency import LatencySetup, latency_study

    _check_method_options(args, args.methods)
    validate.out_dir(args.out)
    setup = LatencySetup(hidden=tuple(args.hidden), encoding=args.encoding,
                         neuron=CubaParams(args.tau_u_ms, args.tau_v_ms, args.threshold,
                                           args.dt_ms),
                         theta=args.theta, mrf_window=args.mrf_window,
                         mrf_dilations=tuple(args.mrf_dilations), train_samples=args.train_samples,
                         test_samples=args.test_samples, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr,
                         energy_table=args.energy_table, target=args.target,
                         threads=args.threads)
    summary = latency_study(setup, args.out, timesteps=tuple(args.timesteps),
                            methods=tuple(args.methods), seeds=tuple(args.seeds),
                            progress=not args.quiet)
    for r in summary["by_method_and_T"]:
        print(f"{r['method']:8s} T={r['timesteps']}: accuracy {r['accuracy_mean']:.2f} ± "
              f"{r['accuracy_std']:.2f} % (seeds {r['seeds']}), energy "
              f"{r['energy_infer_uJ_mean']:.3f} uJ, latency {r['latency_infer_us_mean']:.1f} us")
    print(f"results in {args.out}/results.json, results.csv, latency.png")
    return 0
