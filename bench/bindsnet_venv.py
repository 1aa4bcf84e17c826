"""Build BindsNET 0.3.4's own virtual environment for ``bench/workload.py``.

BindsNET 0.3.4 pins ``torch>=2.14,<3`` and ``torchvision>=0.29``, but on x86-64 Linux
PyPI's torch wheels are the CUDA builds (they pull several GB of ``nvidia-*`` wheels) and
this machine's pip constraints cap torch at 2.14.1. So the venv takes the CPU torch wheel
the machine's pip finds (``TORCH``, a ``+cpu`` build from its find-links), the torchvision
built for it, and installs bindsnet with ``--no-deps`` plus its other requirements as
pinned in its metadata. The torch pin is the one requirement not met; eth_mnist's code
path (network, Poisson encoding, PostPre learning, the D&C model) runs on it unchanged.

    python bench/bindsnet_venv.py            # build bench/.venv-bindsnet if absent
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-bindsnet"
MARK = VENV / ".bindsnet-installed"
BINDSNET = "bindsnet==0.3.4"
#: CPU build of torch and the torchvision released with it.
TORCH = ["torch==2.13.0+cpu", "torchvision==0.28.0"]
#: bindsnet 0.3.4's requirements other than torch / torchvision (its wheel's METADATA).
OTHER = ["ale-py>=0,<1", "gymnasium[atari]>=1,<2", "matplotlib>=3,<4", "numpy>=2,<3",
         "opencv-python>=4.14,<6", "pandas>=3,<4", "scikit-image>=0,<1",
         "scikit-learn>=1,<2", "scipy>=1,<2", "tensorboardX>=2.6.4,<3", "tqdm>=4,<5"]


def python() -> Path:
    return VENV / "bin" / "python"


def build(log=sys.stderr) -> Path:
    """Create the venv and install BindsNET into it (no-op when already built)."""
    if MARK.is_file():
        return python()
    if not python().is_file():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    (VENV / ".gitignore").write_text("*\n")
    pip = [str(python()), "-m", "pip", "install", "--quiet"]
    steps = [
        pip + ["--no-deps", TORCH[0]],
        # torchvision's own deps minus torch (already there): numpy, pillow
        pip + ["--no-deps", TORCH[1]],
        pip + ["pillow"] + OTHER,
        pip + ["--no-deps", BINDSNET],
        pip + ["sympy", "networkx", "jinja2", "fsspec", "filelock", "typing-extensions",
               "setuptools"],  # torch's own requirements
    ]
    for cmd in steps:
        print("bindsnet venv:", " ".join(cmd[3:]), file=log, flush=True)
        subprocess.run(cmd, check=True)
    subprocess.run([str(python()), "-c", "import bindsnet, torch; print('bindsnet ok, torch',"
                    " torch.__version__)"], check=True)
    MARK.write_text(BINDSNET + "\n")
    return python()


if __name__ == "__main__":
    print(build())
