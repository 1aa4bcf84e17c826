import lavalab  # noqa
import json, sys, time
from lavalab.data import load_dataset
from lavalab.supervised.spec import SupervisedSpec
from lavalab.supervised.train import train, TrainConfig, save_model
tr = load_dataset("mnist", "train")
spec = SupervisedSpec(hidden=(512, 512), timesteps=1)
cfg = TrainConfig(epochs=int(sys.argv[1]), seed=0, lr=2e-3)
t = time.time()
net, h = train(spec, cfg, tr.images, tr.labels, checkpoint="/tmp/i14/runs/t1_main.ckpt", progress=False, log=lambda r: print(r, flush=True))
save_model("/tmp/i14/runs/t1_main.npz", net, {"history": h, "config": cfg.__dict__})
print("done", time.time() - t, flush=True)
