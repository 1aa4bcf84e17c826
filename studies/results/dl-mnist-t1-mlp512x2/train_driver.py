"""The driver that trained the T = 1 MLP (reformatted for the linter; same calls).

Run as ``python train_driver.py 8`` (epochs); writes runs/t1_main.{ckpt,npz}.
"""

import sys
import time

import lavalab  # noqa: F401  (before any lava import)
from lavalab.data import load_dataset
from lavalab.networks.supervised import SupervisedSpec
from lavalab.supervised.train import TrainConfig, save_model, train

tr = load_dataset("mnist", "train")
spec = SupervisedSpec(hidden=(512, 512), timesteps=1)
cfg = TrainConfig(epochs=int(sys.argv[1]), seed=0, lr=2e-3)
t = time.time()
net, h = train(spec, cfg, tr.images, tr.labels, checkpoint="runs/t1_main.ckpt",
               progress=False, log=lambda r: print(r, flush=True))
save_model("runs/t1_main.npz", net, {"history": h, "config": cfg.__dict__})
print("done", time.time() - t, flush=True)
