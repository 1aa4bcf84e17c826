"""Deploy a trained model to Lava's stock Processes (what runs on a Loihi chip).

:mod:`~lavalab.deploy.stock`: the lowering of a trained fixed-point model to stock-Process
Var values (pure, no Lava import) and the connected stock Lava network;
the evaluation of a trained STDP model on that network is
:func:`lavalab.stdp.evaluate_stock` (``lavalab evaluate --backend lava-stock``).
"""

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
           "stock_learning_rule", "stock_network"]
