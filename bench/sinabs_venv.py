"""Build sinabs 3.1.3's own virtual environment for ``bench/nir_interop.py``.

sinabs pins ``nir<=1.0.4`` (lavalab's environment has nir 1.0.8), so it cannot share
lavalab's environment. A plain ``pip install sinabs==3.1.3`` into its own virtual
environment, as a user would do it: pip resolves the torch, nir and nirtorch it needs.

    python bench/sinabs_venv.py            # build the environment if absent

The environment lives outside the checkout, in ``$LAVALAB_SINABS_VENV`` (default
``~/.cache/lavalab/venv-sinabs``), so a fresh clone on the same machine reuses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

VENV = Path(os.environ.get("LAVALAB_SINABS_VENV")
            or Path.home() / ".cache" / "lavalab" / "venv-sinabs").expanduser()
MARK = VENV / ".sinabs-installed"
SINABS = "sinabs==3.1.3"


def python() -> Path:
    return VENV / "bin" / "python"


def build(log=sys.stderr) -> Path:
    """Create the venv and install sinabs into it (no-op when already built)."""
    if MARK.is_file():
        return python()
    print(f"building {VENV} ({SINABS} and the torch it needs) ...", file=log, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    (VENV / ".gitignore").write_text("*\n")
    pip = [str(python()), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + [SINABS, "h5py"], check=True)
    check = ("import sinabs, nir, torch; from importlib.metadata import version as v; "
             "print('sinabs', v('sinabs'), 'nir', v('nir'), 'nirtorch', v('nirtorch'), "
             "'torch', torch.__version__)")
    subprocess.run([str(python()), "-c", check], check=True, stdout=log)
    MARK.write_text(SINABS + "\n")
    return python()


if __name__ == "__main__":
    print(build())
