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
