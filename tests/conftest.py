"""Test setup: lavalab must be imported before Lava (Python 3.11 import fix, lavalab._compat)."""

import lavalab  # noqa: F401
