"""Build sinabs 3.1.3's own virtual environment for ``bench/nir_interop.py``.

sinabs pins ``nir<=1.0.4`` (lavalab's environment has nir 1.0.8), so it cannot share
lavalab's environment. A plain ``pip install sinabs==3.1.3`` into its own virtual
environment, as a user would do it: pip resolves the torch, nir and nirtorch it needs.

    python bench/sinabs_venv.py            # build the environment if absent

The environment lives outside the checkout, in ``$LAVALAB_SINABS_VENV`` (default
``~/.cache/lavalab/venv-sinabs``), so a fresh clone on the same machine reuses it.
"""

from __future__ import annotations

from own_venv import OwnVenv

SINABS = "sinabs==3.1.3"
ENV = OwnVenv("sinabs", "LAVALAB_SINABS_VENV", [SINABS, "h5py"],
              ("import sinabs, nir, torch; from importlib.metadata import version as v; "
     "print('sinabs', v('sinabs'), 'nir', v('nir'), 'nirtorch', v('nirtorch'), "
     "'torch', torch.__version__)"),
              note=" and the torch it needs")
VENV = ENV.path


def python():
    return ENV.python()


def build(log=None):
    """Create the venv and install sinabs into it (no-op when already built)."""
    return ENV.build() if log is None else ENV.build(log)


if __name__ == "__main__":
    print(build())
