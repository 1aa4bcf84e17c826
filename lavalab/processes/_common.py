"""Validation shared by the Process constructors."""

from __future__ import annotations


def check_shape(shape) -> tuple[int, ...]:
    """A non-empty tuple of positive ints, or a ValueError naming the value."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"shape={shape!r} must be a tuple of positive integers") from None
    if not shape or not all(isinstance(n, int) and n >= 1 for n in shape):
        raise ValueError(f"shape={shape!r} must be a tuple of positive integers")
    return shape


from lava.magma.core.process.process import AbstractProcess  # noqa: E402


class LavalabProcess(AbstractProcess):
    """Base of lavalab's Processes.

    Constructors validate their arguments before ``AbstractProcess.__init__``; when that
    raises, Lava's ``__del__`` would fail on the half-built object (no ``_runtime``) and
    print a spurious error after the clear one. This guard skips it.
    """

    def __del__(self):
        if "_runtime" in self.__dict__:
            super().__del__()

    def compile(self, run_cfg, compile_config=None):
        """Lava's ``compile``; a ``NoProcessModelFound`` (Lava's own run configurations do
        not look in ``lavalab.procmodels``) gets the hint to use
        ``lavalab.backends.run_configs.Loihi2SimCfg``."""
        from lava.magma.compiler.exceptions import NoProcessModelFound

        try:
            return super().compile(run_cfg, compile_config)
        except NoProcessModelFound as err:
            if NO_MODEL_HINT not in str(err):
                err.args = (f"{err.args[0] if err.args else err}: {NO_MODEL_HINT}",)
            raise


#: Appended to Lava's ``NoProcessModelFound`` for lavalab Processes.
NO_MODEL_HINT = ("lavalab's ProcessModels live in lavalab.procmodels, where Lava's own run "
                 "configurations do not look; run with "
                 "lavalab.backends.run_configs.Loihi2SimCfg (same arguments as "
                 "lava.magma.core.run_configs.Loihi2SimCfg)")
