"""Loader of a lavalab deploy bundle: the network files -> Lava's stock Processes.

Part of a self-contained bundle written by ``lavalab deploy``; imports only numpy and Lava
(lava-nc). ``network.npz`` holds integer arrays only (read with ``allow_pickle=False``),
``network.json`` their meaning:

- ``populations``: name -> stock ``LIFReset`` arguments (``du``, ``dv``, ``vth``,
  ``bias_exp``; per-neuron ``bias_mant`` in the npz as ``<name>.bias_mant``), reset every
  ``sample_steps`` steps (``reset_offset = 1``: Lava's time starts at 1);
- ``connections``: name -> ``Dense`` from population ``pre`` (or the input) to ``post``
  with weights ``<name>.weights`` (post, pre), 8 bits, exponent ``weight_exp``; with a
  ``learning`` entry (``Loihi2FLearningRule`` arguments: the product-of-traces string,
  trace impulses and time constants) a ``LearningDense`` fed back with ``post``'s spikes.

The host-side Processes (input raster, spike counters) are in ``host_io.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

NETWORK_FORMAT = "lavalab-stock-network"
NETWORK_VERSION = 1
INPUT = "input"


class NetworkFileError(ValueError):
    """A network file of the bundle is missing, damaged or of another version."""


def load_network(folder) -> tuple[dict, dict]:
    """``(meta, arrays)`` of ``network.json`` / ``network.npz`` in ``folder``, checked."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "network.json").read_text())
        with np.load(folder / "network.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise NetworkFileError(f"{folder}: network files unreadable ({err})") from None
    if meta.get("format") != NETWORK_FORMAT or meta.get("version") != NETWORK_VERSION:
        raise NetworkFileError(f"network.json: format {meta.get('format')!r} version "
                               f"{meta.get('version')!r}, this loader reads "
                               f"{NETWORK_FORMAT!r} version {NETWORK_VERSION}")
    for name, p in meta["populations"].items():
        b = arrays.get(f"{name}.bias_mant")
        if b is None or b.shape != (p["n"],) or not np.issubdtype(b.dtype, np.integer):
            raise NetworkFileError(f"network.npz: {name}.bias_mant missing or not ({p['n']},) "
                                   "integers")
    for name, c in meta["connections"].items():
        w = arrays.get(f"{name}.weights")
        n_pre = meta["n_input"] if c["pre"] == INPUT else meta["populations"][c["pre"]]["n"]
        shape = (meta["populations"][c["post"]]["n"], n_pre)
        if w is None or w.shape != shape or not np.issubdtype(w.dtype, np.integer):
            raise NetworkFileError(f"network.npz: {name}.weights missing or not {shape} "
                                   "integers")
    return meta, arrays


def build_network(meta: dict, arrays: dict, reset_offset: int = 1) -> dict:
    """The connected stock Processes: name -> Process (``lava.proc.lif.process.LIFReset``
    and ``lava.proc.dense.process.Dense`` only). The input ``Dense`` (``pre == "input"``)
    has its ``s_in`` open; the caller connects the spike source."""
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIFReset

    procs = {}
    for name, p in meta["populations"].items():
        procs[name] = LIFReset(shape=(p["n"],), du=p["du"], dv=p["dv"], vth=p["vth"],
                               bias_mant=arrays[f"{name}.bias_mant"].astype(np.int32),
                               bias_exp=p["bias_exp"], reset_interval=meta["sample_steps"],
                               reset_offset=reset_offset, name=name)
    for name, c in meta["connections"].items():
        if "learning" in c:
            from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
            from lava.proc.dense.process import LearningDense
            from lava.utils.weightutils import SignMode

            procs[name] = LearningDense(
                weights=arrays[f"{name}.weights"].astype(float),
                learning_rule=Loihi2FLearningRule(**c["learning"]),
                sign_mode=SignMode.EXCITATORY, weight_exp=c["weight_exp"], name=name)
            procs[c["post"]].s_out.connect(procs[name].s_in_bap)
        else:
            procs[name] = Dense(weights=arrays[f"{name}.weights"].astype(np.int32),
                                num_weight_bits=meta["weight_bits"],
                                weight_exp=c["weight_exp"], name=name)
        procs[name].a_out.connect(procs[c["post"]].a_in)
        if c["pre"] != INPUT:
            procs[c["pre"]].s_out.connect(procs[name].s_in)
    return procs


def input_connections(meta: dict) -> list[str]:
    """Names of the connections fed by the input raster."""
    return [k for k, c in meta["connections"].items() if c["pre"] == INPUT]
