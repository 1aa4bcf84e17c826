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

from own_venv import OwnVenv

BINDSNET = "bindsnet==0.3.4"
ENV = OwnVenv("bindsnet", "LAVALAB_BINDSNET_VENV", [BINDSNET],
              ("import bindsnet, torch, torchvision; print('bindsnet', bindsnet.__file__, "
               "'torch', torch.__version__, 'torchvision', torchvision.__version__)"),
              note=" and the torch it needs: a few GB")
VENV = ENV.path


def python():
    return ENV.python()


def build(log=None):
    """Create the venv and install bindsnet into it (no-op when already built)."""
    return ENV.build() if log is None else ENV.build(log)


if __name__ == "__main__":
    print(build())
