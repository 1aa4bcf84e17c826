"""Build BindsNET 0.3.4's own virtual environment for ``bench/workload.py``.

A plain ``pip install bindsnet==0.3.4`` into its own virtual environment, as a user would
do it: pip resolves the torch and torchvision it pins (``torch>=2.14,<3``,
``torchvision>=0.29``) from PyPI. On x86-64 Linux PyPI's torch wheels are CUDA builds
(with their ``nvidia-*`` wheels, a few GB); they run on the CPU when there is no GPU.
A CPU-only torch (a ``+cpu`` build) cannot stand in: BindsNET imports torchvision, whose
PyPI wheels link the CUDA torch libraries, and torchvision fails to import without them.

    python bench/bindsnet_venv.py            # build the environment if absent

The environment lives outside the checkout, in ``$LAVALAB_BINDSNET_VENV`` (default
``~/.cache/lavalab/venv-bindsnet``): a fresh clone of lavalab on the same machine reuses
it instead of downloading a few GB again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("LAVALAB_BINDSNET_VENV")
            or Path.home() / ".cache" / "lavalab" / "venv-bindsnet").expanduser()
MARK = VENV / ".bindsnet-installed"
BINDSNET = "bindsnet==0.3.4"


def python() -> Path:
    return VENV / "bin" / "python"


def build(log=sys.stderr) -> Path:
    """Create the venv and install BindsNET into it (no-op when already built)."""
    if MARK.is_file():
        return python()
    print(f"building {VENV} ({BINDSNET} and the torch it needs: a few GB) ...", file=log,
          flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    (VENV / ".gitignore").write_text("*\n")
    subprocess.run([str(python()), "-m", "pip", "install", "--quiet", BINDSNET], check=True)
    check = ("import bindsnet, torch, torchvision; print('bindsnet', bindsnet.__file__, "
             "'torch', torch.__version__, 'torchvision', torchvision.__version__)")
    subprocess.run([str(python()), "-c", check], check=True, stdout=log)
    MARK.write_text(BINDSNET + "\n")
    return python()


if __name__ == "__main__":
    print(build())
