"""``python -m lavalab.cli``: the ``lavalab`` command."""

import sys

from lavalab.cli import main

sys.exit(main())
