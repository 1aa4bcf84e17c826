"""The ``lavalab`` command line (console script ``lavalab = lavalab.cli:main``).

:mod:`lavalab.cli.main` builds the parser and reports errors; :mod:`lavalab.cli.args`
holds the shared argument helpers; one module per command family registers its
subcommands and runs them.
"""

from lavalab.cli.info import backends
from lavalab.cli.main import build_parser, main

__all__ = ["main", "build_parser", "backends"]
