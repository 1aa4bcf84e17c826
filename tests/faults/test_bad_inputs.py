"""Bad input on every subcommand, as a new user gives it: wrong types, out-of-range
numbers, NaN / inf, repeated grid values, empty paths, files that are folders or missing,
outputs that cannot be written, a model applied to data of another size, flags that have
no effect in the combination given, a Dask scheduler address where no scheduler answers.

Each row must exit with status 2 and print ONE line on stderr (argparse's usage line may
precede it) that contains the row's words; no traceback, nothing written at ``OUT``.
Run through :func:`lavalab.cli.main` in-process (the bundle's ``run.py`` through its own
``main``). Cases already in tests/test_cli_errors.py, test_cli_dl.py and test_cli_exact.py
are not repeated here.

The same rows make the table of docs/errors.md: ``PYTHONPATH=. python
tests/faults/test_bad_inputs.py`` runs them and rewrites the page;
:func:`test_docs_table_is_current` fails when the page differs from what the rows print.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from lavalab.cli import main

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

#: Placeholders of the argv strings: what they stand for on the docs page.
LEGEND = {
    "{stdp_npz}": ("MODEL/model.npz", "the model file inside it"),
    "{stdp}": ("MODEL", "a folder of `lavalab train` (tinySNN-5 trained on the 8x8 digits: "
                        "64 inputs)"),
    "{dl64}": ("DL64.npz", "a `lavalab dl` model of 64 inputs (8x8 digits)"),
    "{dl784}": ("DL.npz", "a `lavalab dl train` model of 784 inputs (MNIST), method cuba"),
    "{dl3}": ("DL3.npz", "a `lavalab dl` model of 784 inputs and 3 outputs (classes)"),
    "{exact}": ("EXACT.npz", "a `lavalab exact train` network.npz of 64 inputs (digits)"),
    "{nir64}": ("NET64.nir", "a NIR graph of 64 inputs (`lavalab export DL64.npz --format "
                             "nir`)"),
    "{nir_stdp}": ("STDP.nir", "the NIR graph of MODEL (recurrent inhibition)"),
    "{bundle}": ("BUNDLE", "a deploy bundle of MODEL (`lavalab deploy`)"),
    "{out}": ("OUT", "a path that does not exist yet"),
    "{file}": ("FILE", "an existing text file"),
    "{dir}": ("DIR", "an existing folder that is not a study or a model"),
    "{missing}": ("MISSING", "a path that does not exist"),
    "{ro}": ("/proc/x", "a place nothing can be written"),
    "{http}": ("tcp://HTTP:PORT", "a TCP port where an HTTP server answers, not Dask"),
    "{silent}": ("tcp://SILENT:PORT", "a TCP port that accepts connections and never "
                                      "answers"),
}

STDP_FLAGS = "--network tinysnn --neurons 5 --timesteps 20 --rest 5 --dataset digits --quiet"
TS = ("study timesteps --dataset digits --neurons 5 --train-samples 6 --test-samples 4 "
      "--quiet")
PREC = "study precision --dataset digits --neurons 5 --quiet --bits 8"
SEARCH = "study enhancement-search --dataset digits --neurons 5 --quiet --baseline 20"
DT = "study dt --dataset digits --hidden 4 --train-samples 10 --test-samples 5 --quiet"
EXACT_TRAIN = "exact train --dataset digits --hidden 4 --train-samples 10 --quiet"
EXACT_LAVA = "exact lava --model {exact} --dt 0.005 --dataset digits --samples 2 --quiet"
DL_TRAIN = "dl train --hidden 4 --train-samples 10 --epochs 1"
LATENCY = "study latency --timesteps 1 --train-samples 10 --test-samples 5 --epochs 1"

#: (command, argv, words the one line must contain). Words may hold placeholders.
ROWS = [
    # -- train
    ("train", 'train --out ""', ["--out", "empty"]),
    ("train", 'train --data-root "" --out {out}', ["--data-root", "empty"]),
    ("train", "train --input-gain nan --out {out}", ["--input-gain", "nan"]),
    ("train", "train --input-gain inf --out {out}", ["--input-gain", "inf"]),
    ("train", "train --rest 1 --out {out}", ["--rest=1", "2..100000"]),
    ("train", "train --inference-dt 0.3 --out {out}", ["--inference-dt=0.3", "1 / k"]),
    ("train", "train --backend loihi " + STDP_FLAGS + " --out {out}", ["loihi", "lava-loihi"]),
    ("train", "train --data-root {file} --out {out}", ["{file}", "not a folder"]),
    ("train", "train --init-from {dl64} " + STDP_FLAGS + " --out {out}",
     ["{dl64}", "'lavalab-model'"]),
    ("train", "train --init-from {missing} " + STDP_FLAGS + " --out {out}", ["{missing}"]),
    ("train", "train --init-from {stdp} --network tinysnn --neurons 7 --timesteps 20 "
     "--rest 5 --dataset digits --input-gain 4 --quiet --out {out}",
     ["--init-from", "n_exc"]),
    ("train", "train --init-from {stdp} --network tinysnn --neurons 5 --timesteps 20 "
     "--rest 5 --dataset mnist --input-gain 4 --quiet --out {out}",
     ["--init-from", "n_input"]),
    # -- assign
    ("assign", "assign {stdp} --stock --one-spike-infer --out {out}",
     ["--stock", "--one-spike-infer"]),
    ("assign", "assign {dl64} --out {out}", ["{dl64}", "'lavalab-model'"]),
    ("assign", "assign {stdp} --assign-samples 100 --out {out}",
     ["assign_samples=100", "1..6"]),
    ("assign", "assign {stdp} --inference-dt 0 --out {out}", ["--inference-dt"]),
    ("assign", "assign {stdp} --backend loihi --out {out}", ["lava-loihi"]),
    ("assign", "assign {stdp} --out {stdp_npz}", ["--out", "existing file"]),
    # -- evaluate
    ("evaluate", "evaluate {exact} --no-plots", ["{exact}", "'lavalab-model'"]),
    ("evaluate", "evaluate {nir64} --no-plots", ["{nir64}"]),
    ("evaluate", "evaluate {stdp} --samples 1000 --no-plots", ["samples=1000", "1..297"]),
    ("evaluate", "evaluate {stdp} --backend lava-stock --out {stdp_npz}",
     ["--out", "existing file"]),
    ("evaluate", "evaluate {stdp_npz} --backend lava-stock --samples 2 --out {ro}",
     ["--out", "not writable"]),
    ("evaluate", "evaluate {stdp} --backend lava-stock --samples 1000",
     ["samples=1000", "1..297"]),
    ("evaluate", "evaluate {stdp} --backend loihi", ["lavalab deploy"]),
    ("evaluate", "evaluate {stdp} --data-root {dir} --no-plots", ["digits is built in"]),
    # -- plot
    ("plot", "plot {dl64} --out {out}", ["{dl64}", "'lavalab-model'"]),
    # -- compile
    ("compile", "compile --model {stdp} --weight-bits 8 --samples 2",
     ["--weight-bits", "--model"]),
    ("compile", "compile --model {stdp} --network diehl-cook --neurons 100 --samples 2",
     ["--network", "--neurons", "--model"]),
    ("compile", "compile --model {stdp} --init uniform --samples 2", ["--init", "--model"]),
    ("compile", "compile --model {stdp} --samples 1000", ["--samples=1000", "297"]),
    ("compile", "compile --model {stdp} --data-root {dir} --samples 2",
     ["digits is built in"]),
    ("compile", "compile --model {dl64}", ["{dl64}", "'lavalab-model'"]),
    ("compile", "compile --dt nan", ["--dt", "nan"]),
    ("compile", "compile --dt 0", ["--dt=0"]),
    ("compile", "compile --tau-theta -1", ["--tau-theta=-1"]),
    ("compile", "compile --t-ref nan", ["--t-ref", "nan"]),
    ("compile", "compile --eta-pre inf", ["--eta-pre", "inf"]),
    ("compile", "compile --weight-bits 1 --samples 2", ["weight_bits=1", "2..16"]),
    ("compile", "compile --enhancement linear", ["--enhancement linear", "--timesteps"]),
    ("compile", "compile --baseline 350 --timesteps 100", ["--baseline 350", "--enhancement"]),
    ("compile", "compile --baseline 100 --timesteps 200 --enhancement linear --samples 2",
     ["T=200", "T0=100"]),
    # -- deploy
    ("deploy", "deploy {stdp} --out {stdp_npz}", ["--out", "existing file"]),
    ("deploy", "deploy {stdp} --out {ro}", ["--out", "not writable"]),
    ("deploy", 'deploy {stdp} --out ""', ["--out", "empty"]),
    ("deploy", "deploy {stdp} --out {dir}", ["--out", "not empty"]),
    ("deploy", "deploy {stdp} --samples 1000 --out {out}", ["samples=1000", "1..297"]),
    ("deploy", "deploy {stdp} --samples 0 --out {out}", ["--samples=0"]),
    ("deploy", "deploy {dl64} --out {out}", ["--dataset", "digits has 64 pixels"]),
    ("deploy", "deploy {dl64} --dataset mnist --out {out}", ["--dataset mnist", "784 pixels",
                                                             "64 inputs"]),
    ("deploy", "deploy {exact} --out {out}", ["{exact}", "'lavalab-model'"]),
    ("deploy", "deploy {missing} --out {out}", ["{missing}", "no such file"]),
    # -- the bundle's run.py (no lavalab needed)
    ("run.py", "run.py --samples 0", ["--samples 0", "1..2"]),
    ("run.py", "run.py --samples 1000", ["--samples 1000", "1..2"]),
    ("run.py", "run.py --samples x", ["--samples", "'x'"]),
    ("run.py", "run.py --target loihi2", ["--target loihi2", "lava-loihi"]),
    ("run.py", "run.py --partition oheogulch", ["--partition", "--target loihi2"]),
    ("run.py", "run.py --loihi-gen N3C1", ["--loihi-gen", "--target loihi2"]),
    ("run.py", "run.py --target loihi2 --ethernet-host 10.0.0.2 --partition oheogulch",
     ["--ethernet-host", "--partition"]),
    ("run.py", "run.py --partition a --board b --target loihi2", ["--partition", "--board"]),
    ("run.py", "run.py --input-lag -1", ["--input-lag"]),
    ("run.py", "run.py --out {dir}", ["--out", "not a file name"]),
    ("run.py", "run.py --out {ro}/r.json", ["--out", "not a writable folder"]),
    # -- export
    ("export", "export {stdp} --format netx --for snntorch --out {out}",
     ["--for snntorch", "--format nir"]),
    ("export", "export {stdp} --format nir --netx-inhibition drop --out {out}",
     ["--netx-inhibition", "--format netx"]),
    ("export", "export {stdp} --format nir --out {dir}", ["--out", "folder"]),
    ("export", "export {stdp} --format nir --out {ro}/x.nir", ["--out", "not writable"]),
    ("export", 'export {stdp} --format nir --out ""', ["--out", "empty"]),
    ("export", "export {stdp} --format netx --out {out}",
     ["netx_feed_forward_only", "--netx-inhibition drop"]),
    ("export", "export {exact} --format nir --out {out}",
     ["{exact}", "neither an STDP model", "nor a lavalab dl model"]),
    ("export", "export {dl64} --format netx --out {out}", ["{dl64}", "'lavalab-model'"]),
    ("export", "export {stdp} --format onnx --out {out}", ["--format", "onnx"]),
    ("export", "export {stdp} --format nir --out {nir_stdp}", ["--out", "exists", "--force"]),
    # -- import
    ("import", "import {missing} --out {out}", ["{missing}", "no such NIR file"]),
    ("import", "import {dl64} --out {out}", ["{dl64}", "not a readable NIR file"]),
    ("import", "import {nir_stdp} --out {out}", ["successors", "feed-forward"]),
    ("import", "import {nir64} --out {file}", ["--out", "--force"]),
    ("import", "import {nir64} --out {dir} --force", ["--out", "folder"]),
    ("import", "import {nir64} --out {ro}/m.npz", ["--out", "not writable"]),
    ("import", 'import "" --out {out}', ["FILE.nir", "empty"]),
    ("import", "import {nir64} --dt nan --out {out}", ["--dt", "nan"]),
    ("import", "import {nir64} --input-bits 9 --out {out}", ["--input-bits=9", "1..6"]),
    ("import", "import {nir64} --encoding rate --input-bits 4 --out {out}",
     ["--input-bits 4", "--encoding direct"]),
    # -- dl train / evaluate / export
    ("dl train", DL_TRAIN + " --out {dir}", ["--out", "folder"]),
    ("dl train", DL_TRAIN + ' --out ""', ["--out", "empty"]),
    ("dl train", DL_TRAIN + " --method cuba --theta 1.0 --out {out}",
     ["--theta", "seed002, omega", "cuba"]),
    ("dl train", DL_TRAIN + " --method cuba --mrf-window 3 --out {out}",
     ["--mrf-window", "seed002, mrf"]),
    ("dl train", DL_TRAIN + " --method omega --mrf-dilations 1,2 --out {out}",
     ["--mrf-dilations", "omega"]),
    ("dl train", DL_TRAIN + " --method mrf --mrf-dilations 1,2,3,4,5,6,7,8 --out {out}",
     ["hidden width 4", "8 MRF groups"]),
    ("dl train", DL_TRAIN + " --threshold inf --out {out}", ["--threshold", "inf"]),
    ("dl train", "dl train --hidden 4,,4 --out {out}", ["--hidden", "'4,,4'", "empty"]),
    ("dl train", DL_TRAIN + " --timesteps 0 --out {out}", ["--timesteps=0", "1..64"]),
    ("dl train", DL_TRAIN + " --checkpoint {dir} --out {out}", ["{dir}", "--checkpoint",
                                                                 "folder"]),
    ("dl evaluate", "dl evaluate {dl64} --samples 2",
     ["{dl64}", "64 inputs", "784 pixels"]),
    ("dl evaluate", "dl evaluate {dl3} --samples 2", ["{dl3}", "3 outputs", "10 classes"]),
    ("dl evaluate", "dl evaluate {dl784} --samples 2 --lava-samples 1",
     ["--lava-samples", "--backend both"]),
    ("dl evaluate", "dl evaluate {dl784} --samples 2 --lava-samples 5 --backend both",
     ["--lava-samples=5", "--samples=2"]),
    ("dl evaluate", "dl evaluate {dl784} --samples 2 --no-omega",
     ["--no-omega", "{dl784}", "cuba"]),
    ("dl evaluate", "dl evaluate {dl784} --samples 2 --json {dir}", ["--json", "folder"]),
    ("dl evaluate", 'dl evaluate {dl784} --samples 2 --json ""', ["--json", "empty"]),
    ("dl evaluate", "dl evaluate {stdp_npz}", ["{stdp_npz}", "'lavalab-supervised-model'"]),
    ("dl evaluate", "dl evaluate {stdp}", ["{stdp}", "folder"]),
    ("dl evaluate", "dl evaluate {dl784} --backend loihi", ["--backend", "loihi"]),
    ("dl export", "dl export {dl784} --out {dir}", ["--out", "folder"]),
    ("dl export", "dl export {dl784} --out {file}", ["--out", "exists", "--force"]),
    ("dl export", "dl export {exact} --out {out}", ["{exact}", "'lavalab-supervised-model'"]),
    # -- exact train / lava
    ("exact train", EXACT_TRAIN + " --test-dts 0.001,0.001 --out {out}",
     ["--test-dts", "0.001 twice"]),
    ("exact train", EXACT_TRAIN + ' --out ""', ["--out", "empty"]),
    ("exact train", EXACT_TRAIN + " --out {stdp_npz}", ["--out", "existing file"]),
    ("exact train", EXACT_TRAIN + " --tau-s nan --out {out}", ["--tau-s", "nan"]),
    ("exact train", EXACT_TRAIN + " --dataset nmnist --out {out}", ["--dataset", "nmnist"]),
    ("exact lava", EXACT_LAVA + " --lava-samples 5 --out {out}",
     ["--lava-samples=5", "--samples=2"]),
    ("exact lava", "exact lava --model {exact} --dt 0.005 --dataset mnist --samples 2 "
     "--lava-samples 0 --quiet --out {out}", ["--dataset mnist", "{exact}", "digits"]),
    ("exact lava", "exact lava --model {stdp_npz} --dt 0.005 --dataset digits --out {out}",
     ["{stdp_npz}", "'lavalab-exact-network'"]),
    ("exact lava", "exact lava --model {stdp} --dt 0.005 --dataset digits --out {out}",
     ["--model", "folder"]),
    ("exact lava", EXACT_LAVA + " --lava-samples 0 --out {stdp_npz}",
     ["--out", "existing file"]),
    ("exact lava", EXACT_LAVA + " --weight-bits 9 --out {out}", ["--weight-bits=9", "2..8"]),
    # -- study dt
    ("study dt", DT + " --dts 0.001,0.001 --out {out}", ["--dts", "0.001 twice"]),
    ("study dt", DT + " --seeds 0,0 --out {out}", ["--seeds", "0 twice"]),
    ("study dt", DT + ' --dts "" --out {out}', ["--dts", "empty"]),
    ("study dt", DT + " --dts inf --out {out}", ["--dts", "inf"]),
    # -- study latency
    ("study latency", LATENCY + " --timesteps 1,1 --out {out}", ["--timesteps", "1 twice"]),
    ("study latency", LATENCY + " --methods cuba,cuba --out {out}",
     ["--methods", "'cuba' twice"]),
    ("study latency", LATENCY + " --seeds 0,0 --out {out}", ["--seeds", "0 twice"]),
    ("study latency", LATENCY + ' --methods "," --out {out}', ["--methods", "empty"]),
    ("study latency", LATENCY + " --methods cuba,omega --mrf-window 5 --out {out}",
     ["--mrf-window", "cuba,omega"]),
    ("study latency", LATENCY + " --methods cuba --out {stdp_npz}", ["--out", "existing file"]),
    # -- study timesteps
    ("study timesteps", TS + " --timesteps 350,350 --out {out}", ["--timesteps", "350 twice"]),
    ("study timesteps", TS + " --timesteps 350,abc --out {out}", ["--timesteps", "'350,abc'"]),
    ("study timesteps", TS + " --timesteps 20 --enhancement cubic --out {out}",
     ["--enhancement", "'cubic'"]),
    ("study timesteps", TS + " --timesteps 20,10 --enhancement linear,linear --out {out}",
     ["--enhancement", "'linear' twice"]),
    ("study timesteps", TS + " --timesteps 20,10 --infer-timesteps 5,5 --out {out}",
     ["--infer-timesteps", "5 twice"]),
    ("study timesteps", TS + " --timesteps 20,10 --infer-enhancement linear --out {out}",
     ["--infer-enhancement", "--infer-timesteps"]),
    ("study timesteps", TS + " --timesteps 20,10 --seeds 1,2 --seed 0 --out {out}",
     ["--seed 0", "--seeds 1,2"]),
    ("study timesteps", TS + " --timesteps 20,10 --baseline 10 --out {out}",
     ["T=20", "T0=10"]),
    ("study timesteps", TS + " --timesteps 20,10 --tau nan --out {out}", ["--tau", "nan"]),
    ("study timesteps", TS + " --test-samples 400 --timesteps 20,10 --out {out}",
     ["test_samples=400", "297"]),
    ("study timesteps", TS + " --timesteps 20,10 --out {stdp_npz}", ["--out", "existing file"]),
    ("study timesteps", TS + " --timesteps 20 --scheduler tcp://127.0.0.1:9 --out {out}",
     ["--scheduler", "--executor dask"]),
    ("study timesteps", TS + " --timesteps 20 --executor dask --scheduler tcp://h:99999 "
     "--out {out}", ["--scheduler", "port 1..65535"]),
    ("study timesteps", TS + " --timesteps 20 --executor dask --scheduler {silent} --workers 2 "
     "--out {out}", ["--workers 2", "--scheduler"]),
    ("study timesteps", TS + " --timesteps 20 --threads-per-worker 2 --out {out}",
     ["--threads-per-worker", "--executor dask"]),
    ("study timesteps", TS + " --timesteps 20 --executor dask --connect-timeout nan "
     "--out {out}", ["--connect-timeout", "nan"]),
    ("study timesteps", TS + " --timesteps 20 --executor dask --scheduler {silent} "
     "--connect-timeout 1 --out {out}", ["--scheduler", "{silent}", "within 1 s"]),
    ("study timesteps", TS + " --timesteps 20 --executor dask --scheduler {http} "
     "--connect-timeout 1 --out {out}", ["--scheduler", "{http}"]),
    # -- study precision
    ("study precision", "study precision --bits 8,8 --out {out}", ["--bits", "8 twice"]),
    ("study precision", PREC + " --schemes ptq,ptq --out {out}", ["--schemes", "'ptq' twice"]),
    ("study precision", PREC + " --roundings nearest,nearest --out {out}",
     ["--roundings", "'nearest' twice"]),
    ("study precision", PREC + " --params w,w --out {out}", ["--params", "'w' twice"]),
    ("study precision", "study precision --bits 1 --out {out}", ["--bits", "2..16 or 32"]),
    ("study precision", PREC + " --mu nan --out {out}", ["--mu", "nan"]),
    ("study precision", PREC + " --schemes qat --out {out}", ["--schemes", "qat"]),
    # -- study enhancement-search
    ("study enhancement-search", SEARCH + " --timesteps 10,10 --out {out}",
     ["--timesteps", "10 twice"]),
    ("study enhancement-search", SEARCH + " --timesteps 10 --factors 2,2 --out {out}",
     ["--factors", "2.0 twice"]),
    ("study enhancement-search", SEARCH + " --timesteps 10 --params vth,vth --out {out}",
     ["--params", "'vth' twice"]),
    ("study enhancement-search", SEARCH + " --timesteps 10 --factors 1 --out {out}",
     ["factors=[1.0]", "linear policy"]),
    ("study enhancement-search", SEARCH + " --timesteps 10 --min-effect nan --out {out}",
     ["--min-effect", "nan"]),
    ("study enhancement-search", SEARCH + " --timesteps 30 --out {out}",
     ["timesteps=30", "1..19"]),
    ("study enhancement-search", SEARCH + " --timesteps 10 --executor dask --out {out}",
     ["--executor dask", "threads"]),
    # -- study refresh, report
    ("study refresh", "study refresh {missing}", ["{missing}", "no results.json"]),
    ("study refresh", "study refresh {stdp}", ["{stdp}", "no results.json"]),
    ("study refresh", 'study refresh ""', ["RESULTS_DIR", "empty"]),
    ("report", "report {dir}", ["{dir}", "no results"]),
    ("report", "report {missing}", ["{missing}", "not a study folder"]),
    ("report", "report {stdp} --out {dir}", ["--out", "folder"]),
    ("report", "report {stdp} --out {ro}/r.md", ["--out", "not writable"]),
    ("report", 'report {stdp} --out ""', ["--out", "empty"]),
    ("report", "report {stdp} --format pdf", ["--format", "pdf"]),
    # -- info
    ("info", "info --verbose", ["unrecognized arguments", "--verbose"]),
    # -- demo
    ("demo", "demo --timesteps 20,20 --out {out}", ["--timesteps", "20 twice"]),
    ("demo", 'demo --out "" --quiet', ["--out", "empty"]),
    ("demo", "demo --out {stdp_npz} --quiet", ["--out", "existing file"]),
    ("demo", "demo --lava-samples 50 --test-samples 10 --quiet --out {out}",
     ["lava_samples=50", "1..10"]),
]


# -- the artefacts the rows refer to ------------------------------------------------------


class _Server:
    """A TCP server on 127.0.0.1: ``http`` answers anything with an HTTP 400 and closes;
    otherwise it accepts and never answers."""

    def __init__(self, http: bool):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.http, self.conns = http, []
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.http:
                with contextlib.suppress(OSError):
                    conn.settimeout(2)
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n"
                                 b"content-length: 0\r\n\r\n")
                    conn.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def build_context(root: Path) -> dict:
    """Tiny models of every family, a NIR file, a bundle, files, folders, servers."""
    root.mkdir(parents=True, exist_ok=True)
    ctx = {"{stdp}": str(root / "stdp")}
    quiet = contextlib.redirect_stdout(io.StringIO())
    with quiet, contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", *STDP_FLAGS.split(), "--samples", "6", "--assign-samples", "6",
                     "--input-gain", "4", "--out", ctx["{stdp}"]]) == 0
        ctx["{stdp_npz}"] = str(root / "stdp" / "model.npz")
        import torch

        from lavalab.networks.supervised import SupervisedSpec
        from lavalab.supervised.model import SupervisedNet
        from lavalab.supervised.train import save_model

        torch.manual_seed(0)
        for n, c, key in ((64, 10, "{dl64}"), (784, 10, "{dl784}"), (784, 3, "{dl3}")):
            net = SupervisedNet(SupervisedSpec(n_input=n, hidden=(8,), n_output=c))
            net.eval()
            ctx[key] = str(save_model(root / f"dl{n}-{c}.npz", net, {"dataset": None}))
        assert main(["exact", "train", "--dataset", "digits", "--hidden", "6", "--thresholds",
                     "0.05,0.3", "--train-samples", "20", "--test-samples", "10",
                     "--batch-size", "20", "--quiet", "--out", str(root / "exact")]) == 0
        ctx["{exact}"] = str(root / "exact" / "network.npz")
        ctx["{nir64}"] = str(root / "net64.nir")
        assert main(["export", ctx["{dl64}"], "--format", "nir", "--out", ctx["{nir64}"]]) == 0
        ctx["{nir_stdp}"] = str(root / "stdp.nir")
        assert main(["export", ctx["{stdp}"], "--format", "nir", "--out",
                     ctx["{nir_stdp}"]]) == 0
        ctx["{bundle}"] = str(root / "bundle")
        assert main(["deploy", ctx["{stdp}"], "--samples", "2", "--out", ctx["{bundle}"]]) == 0
    (root / "file.txt").write_text("not a model\n")
    ctx["{file}"] = str(root / "file.txt")
    (root / "dir").mkdir()
    (root / "dir" / "notes.txt").write_text("x\n")
    ctx["{dir}"] = str(root / "dir")
    ctx["{missing}"] = str(root / "missing")
    ctx["{ro}"] = "/proc/lavalab-faults"
    servers = [_Server(http=True), _Server(http=False)]
    ctx["{http}"], ctx["{silent}"] = servers[0].address, servers[1].address
    ctx["servers"] = servers
    return ctx


def _argv(row, ctx: dict, out: Path) -> list[str]:
    values = {**ctx, "{out}": str(out)}
    argv = []
    for tok in shlex.split(row[1]):
        for k, v in values.items():
            if k.startswith("{"):
                tok = tok.replace(k, v)
        argv.append(tok)
    return argv


def _run(argv: list[str], ctx: dict) -> tuple[object, str]:
    """(exit code, stderr) of ``lavalab argv`` (or the bundle's run.py) in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            if argv[0] == "run.py":  # as `python BUNDLE/run.py ...` names itself
                prog, sys.argv[0] = sys.argv[0], "run.py"
                try:
                    rc = _bundle_main(ctx["{bundle}"])(argv[1:] + ["--quiet", "--dry-run"])
                finally:
                    sys.argv[0] = prog
            else:
                rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code
    return rc, err.getvalue()


def _bundle_main(bundle: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bundle_run_bad_inputs",
                                                  Path(bundle) / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def _one_line(rc, err: str, row) -> str:
    """The one error line (argparse prints its usage lines first)."""
    assert rc == 2, (row, rc, err)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and "warning" not in ln.lower()]
    msg = lines[-1]
    if not any(ln.startswith("usage:") for ln in lines):
        assert len(lines) == 1, err
    return msg


def _display(text: str, ctx: dict, out: Path) -> str:
    """``text`` with the paths of this run shown as the page's placeholder names."""
    values = {**{k: v for k, v in ctx.items() if k.startswith("{")}, "{out}": str(out)}
    for k, v in sorted(values.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(v, LEGEND[k][0])
        if v.startswith("tcp://"):
            text = text.replace(v.removeprefix("tcp://"), LEGEND[k][0].removeprefix("tcp://"))
    return text


def message(row, ctx: dict, out: Path) -> str:
    """Run ``row``; check the contract; its one line as the docs page shows it."""
    rc, err = _run(_argv(row, ctx, out), ctx)
    msg = _one_line(rc, err, row)
    for word in row[2]:
        for k, v in {**ctx, "{out}": str(out)}.items():
            if k.startswith("{"):
                word = word.replace(k, v)
        assert word in msg, (row, word, msg)
    assert not out.exists(), (row, "wrote", out)
    return _display(msg, ctx, out)


# -- the docs page -------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """``text`` as a code span of a table cell (double backticks when it holds one)."""
    return f"`` {_cell(text)} ``" if "`" in text else f"`{_cell(text)}`"


def render_page(messages: dict[int, str]) -> str:
    """docs/errors.md from the rows and their messages (by row index)."""
    lines = [
        "# Bad input and what you see",
        "",
        "Every `lavalab` command answers bad input the same way: exit status 2 and one "
        "line on stderr that names the flag, value or file and what is allowed (argparse "
        "prints its usage line before it); no traceback, nothing written. The tables list "
        "the bad inputs tried on each command and the line it prints, generated from the "
        "rows of `tests/faults/test_bad_inputs.py`, which asserts each (regenerate with "
        "`PYTHONPATH=. python tests/faults/test_bad_inputs.py`). Damaged or foreign model "
        "and result files are covered by the file validators (`lavalab.model_io`).",
        "",
        "The commands use these stand-ins:",
        "",
        "| Name | What it is |",
        "| --- | --- |",
    ]
    for name, what in LEGEND.values():
        lines.append(f"| `{name}` | {what} |")
    by_cmd: dict[str, list[int]] = {}
    for i, row in enumerate(ROWS):
        by_cmd.setdefault(row[0], []).append(i)
    for cmd, idx in by_cmd.items():
        title = ("the bundle's `run.py`" if cmd == "run.py" else f"`lavalab {cmd}`")
        lines += ["", f"## {title}", "", "| Command | What you see (exit status 2) |",
                  "| --- | --- |"]
        for i in idx:
            shown = ROWS[i][1]
            for k, (name, _) in LEGEND.items():
                shown = shown.replace(k, name)
            prefix = "python BUNDLE/" if cmd == "run.py" else "lavalab "
            lines.append(f"| {_code(prefix + shown)} | {_code(messages[i])} |")
    return "\n".join(lines) + "\n"


# -- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    c = build_context(tmp_path_factory.mktemp("bad_inputs"))
    yield c
    for s in c["servers"]:
        s.close()


_SEEN: dict[int, str] = {}


@pytest.mark.parametrize("i", range(len(ROWS)),
                         ids=[f"{r[0]}: {r[1][:70]}" for r in ROWS])
def test_refused_in_one_line(i, ctx, tmp_path):
    t0 = time.monotonic()
    _SEEN[i] = message(ROWS[i], ctx, tmp_path / "out")
    if "--connect-timeout 1" in ROWS[i][1]:  # within the timeout, not Dask's default
        assert time.monotonic() - t0 < 15


def test_stock_default_samples_fit_a_small_test_set(ctx, monkeypatch, capsys):
    """Without --samples, evaluate --backend lava-stock runs 500 digits or the whole test
    set if smaller (digits: 297), not an error about a flag the user did not give."""
    import lavalab.engine

    def stop(net, images, *a, **k):
        raise ValueError(f"stopped before Lava with {len(images)} digits")

    monkeypatch.setattr(lavalab.engine, "infer", stop)
    rc, err = _run(["evaluate", ctx["{stdp}"], "--backend", "lava-stock"], ctx)
    assert rc == 2 and "stopped before Lava with 297 digits" in err, err


def test_docs_table_is_current():
    """docs/errors.md is what the rows print (when every row ran in this session)."""
    page = DOCS_PAGE.read_text()
    if len(_SEEN) < len(ROWS):
        for row in ROWS:  # at least every command is in the page
            shown = row[1]
            for k, (name, _) in LEGEND.items():
                shown = shown.replace(k, name)
            assert _cell(shown) in page, (row, "missing from", DOCS_PAGE)
        return
    assert page == render_page(_SEEN), (
        f"{DOCS_PAGE} is stale: regenerate it with "
        "`PYTHONPATH=. python tests/faults/test_bad_inputs.py`")


def test_rows_name_known_placeholders():
    for row in ROWS:
        for tok in row[1].split():
            for part in tok.split("{")[1:]:
                assert "{" + part.split("}")[0] + "}" in LEGEND, (row, part)


if __name__ == "__main__":  # rewrite docs/errors.md
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        c = build_context(Path(d) / "ctx")
        msgs = {}
        for i, row in enumerate(ROWS):
            msgs[i] = message(row, c, Path(d) / f"out{i}")
            print(f"{row[0]}: {msgs[i]}", file=sys.stderr)
        for s in c["servers"]:
            s.close()
    DOCS_PAGE.write_text(render_page(msgs))
    print(f"wrote {DOCS_PAGE}")
