"""The README.md of a deploy bundle (:mod:`lavalab.deploy.bundle`): versions, the exact
INRC commands, what to send back, and the measured cost of the lowering."""

from __future__ import annotations

__all__ = ["bundle_readme"]


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def bundle_readme(manifest: dict, expected: dict, partition: dict, network: dict,
                  simulated: dict | None = None) -> str:
    """Markdown text of the bundle's README (``simulated``: the results of the bundle's own
    ``run.py --target sim`` when ``lavalab deploy --verify`` ran it)."""
    v = manifest["built_with"]
    period = manifest["sample_steps"]
    pops = ", ".join(f"{k}: {p['cores']} core(s) of <= {p['neurons_per_core']} neurons"
                     for k, p in partition["populations"].items())
    approx = expected["approximations"]
    if approx:
        lowering = ("The lowering to stock Processes is **not exact**; its approximations:\n\n"
                    + "".join(f"- {a}\n" for a in approx)
                    + f"\nTheir measured cost on these {expected['samples']} digits (stock "
                    "arithmetic without Lava, `expected.json`): predictions agree with the "
                    f"engine on {_pct(expected['stock_reference_agreement_with_engine'])}; "
                    f"accuracy {_pct(expected['stock_reference_accuracy'])} vs the engine's "
                    f"{_pct(expected['engine_accuracy'])}; identical spike counts on "
                    f"{_pct(expected['stock_reference_identical_counts'])} of digits. "
                    "`run.py` reports its agreement with both the engine and this stock "
                    "reference (the latter is 100 % when Lava computes what the bundle says).\n")
    else:
        lowering = ("The lowering to stock Processes is **exact**: `run.py --target sim` "
                    "must reproduce the engine's spike counts digit by digit.\n")
    pow2 = "" if not period & (period - 1) else (
        f"\n**Sample period {period} steps is not a power of 2.** lava-dl's tutorials note "
        "that `LIFReset.reset_interval` must be a power of 2 on Loihi 2 hardware (a comment, "
        "not enforced by public code). If the chip's counts drift from the simulation after "
        "the first digit, that is the likely cause: retrain with `--timesteps`/`--rest` "
        "summing to a power of 2.\n")
    if simulated:
        sim = (f"\nVerified when built: `run.py --target sim` (lavalab not importable) ran the "
               f"{simulated['samples']} digits in {simulated['lava_runs']} Lava run of "
               f"{simulated['steps']} steps ({simulated['wall_s']:.0f} s): accuracy "
               f"{_pct(simulated['accuracy'])}, predictions agree with the engine on "
               f"{_pct(simulated['prediction_agreement_with_engine'])} and with the stock "
               f"reference on {_pct(simulated['prediction_agreement_with_stock_reference'])}"
               "; identical spike counts with the stock reference on "
               f"{_pct(simulated['identical_exc_counts_with_stock_reference'])} of digits.\n")
    else:
        sim = ("\nNot run in Lava when built (`lavalab deploy --verify` does); the stock "
               "reference above is the same arithmetic without Lava.\n")
    learn = [k for k, c in network["connections"].items() if "learning" in c]
    if learn:
        sim += ("\n**On-chip learning**: " + ", ".join(f"`{k}`" for k in learn) + " is a stock "
                "`LearningDense` running the model's STDP1 in Lava's product-of-traces form "
                f"(`{network['connections'][learn[0]]['learning']['dw']}`, learning every "
                "step); theta stays frozen and D&C's weight normalisation has no stock form. "
                "The weights change during the run, so the agreement with the engine's "
                "frozen-weight results measures the learning's effect; `run.py` writes the "
                "learned weights to `results_<target>_learned_weights.npz` (send it back).\n")
    return f"""# lavalab deploy bundle: {manifest['kind']}-{manifest['n_exc']}

Self-contained: `run.py` imports only numpy and Lava (no lavalab). Every file is listed
with its SHA-256 in `bundle.json` (format `{manifest['format']}` version
{manifest['version']}); `run.py` refuses a damaged or mixed bundle in one line (exit 2).

Built and simulated with: lavalab {v['lavalab']}, Python {v['python']}, lava-nc
{v['lava-nc']}, numpy {v['numpy']}. Runs on Python 3.10 (the INRC's Lava environment;
lava-nc 0.10 supports < 3.11) and on 3.11 (`run.py` carries a small in-memory import fix
for lava-nc 0.10's `var_model` dataclass defaults).

## What is inside

- the network: stock `lava.proc.lif.process.LIFReset` populations and
  `lava.proc.dense.process.Dense` connections (`network.json` + `network.npz`, integers,
  no pickle; `stock_network.py` builds them);
- {expected['samples']} test digits of {expected['dataset']} as the exact input raster the
  lavalab engine used ({period} steps per digit, all digits in ONE Lava run; the neurons
  reset on chip at each digit's first step: `LIFReset(reset_interval={period},
  reset_offset=1)`; no host `Var.set` between digits);
- the engine's spike counts and predictions for those digits (`expected.npz/json`);
  engine accuracy {_pct(expected['engine_accuracy'])};
- the compile layer's Loihi 2 partition (`partition.json`): {pops}.

{lowering}{sim}{pow2}
## On your machine (CPU simulation)

    python run.py --target sim

`Loihi2SimCfg(select_tag="fixed_pt")`: Lava's bit-accurate CPU models of the same stock
Processes, fed directly by the host raster source.

## On a Loihi 2 system (INRC)

On the INRC cloud (lava-loihi installed in its Python 3.10 Lava environment):

    python run.py --target loihi2 --dry-run --partition oheogulch   # wiring only
    python run.py --target loihi2 --partition oheogulch --loihi-gen N3B3

or, for a directly attached system, `--ethernet-host ADDRESS [--ethernet-binary PATH]`
instead of `--partition` (`--board NAME` picks one SLURM board). `run.py` then:

1. calls `lava.utils.loihi.use_slurm_host(partition=..., board=..., loihi_gen=ChipGeneration.N3B3)`
   (or `use_ethernet_host(...)`), which sets `SLURM`, `PARTITION`, `LOIHI_GEN`;
2. inserts `lava.proc.embedded_io.spike.PyToNxAdapter` between the host raster source and
   the input `Dense`, and an `NxToPyAdapter` between each `LIFReset` and its host counter;
3. runs `Loihi2HwCfg(exception_proc_model_map=<host models>)` with
   `compile_config={{"partitioning": {{population: {{"neurons_per_core", "cores"}}}}}}` from
   `partition.json` (Lava 0.10 passes `partitioning` to lava-loihi's neuro-core compiler;
   its key schema is not public: if the compiler rejects it, rerun with `--no-partition`
   and send the message back);
4. attaches `lava.utils.profiler.Profiler` (execution time and energy probes) where
   lava-loihi provides it (`--no-profile` to skip).

The embedded I/O path adds latency (lava-dl's tutorials measured 2 steps end to end,
not documented per adapter). If the chip's counts differ from the simulation, rerun with
`--input-lag 1 --output-lag 1` (moves the on-chip reset and the counting windows).

## What to send back

- `results_loihi2.json` (accuracy, agreement with the engine and the stock reference,
  spikes per layer, profiler figures) and the console output of `run.py`;
- `pip list | grep -i lava` and `python --version` of the environment used;
- on a failure: the full traceback and the lava-loihi compiler log.
"""
