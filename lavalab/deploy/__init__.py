"""Deploy a trained model to Lava's stock Processes (what runs on a Loihi chip).

:mod:`~lavalab.deploy.stock`: the lowering of a trained fixed-point model to stock-Process
Var values (pure, no Lava import) and the connected stock Lava network;
:mod:`~lavalab.deploy.lava_stock`: that network run on Lava's CPU simulation;
:mod:`~lavalab.deploy.evaluate`: ``lavalab evaluate --backend lava-stock``, a trained model's
stock network beside the engine;
:mod:`~lavalab.deploy.bundle`: ``lavalab deploy``, a self-contained bundle that runs the
stock network on Lava's CPU simulation or a Loihi 2 chip without lavalab.
"""

from lavalab.deploy.bundle import write_bundle
from lavalab.deploy.evaluate import LOIHI_VIA_BUNDLE, STOCK_BACKENDS, evaluate_stock
from lavalab.deploy.stock import (
    RESETS,
    THETA_FOLDS,
    StockLIF,
    StockLowering,
    StockNetwork,
    build_stock_network,
    lower_model,
    lower_to_stock,
    stock_learning_rule,
    stock_network,
    stock_process_modules,
)

__all__ = ["THETA_FOLDS", "RESETS", "StockLIF", "StockLowering", "StockNetwork",
           "lower_to_stock", "lower_model", "build_stock_network", "stock_process_modules",
           "stock_learning_rule", "stock_network", "write_bundle",
           "STOCK_BACKENDS", "evaluate_stock", "LOIHI_VIA_BUNDLE"]
