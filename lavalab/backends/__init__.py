"""Execution backends: ``engine`` (batched, compiled), ``lava`` (Lava CPU simulation,
Loihi2SimCfg) and ``loihi`` (Lava on Loihi hardware via Intel's lava-loihi)."""

BACKENDS = ("engine", "lava", "loihi")


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says what is needed)."""

INRC_HINT = (
    "not found: running on Loihi needs Intel's lava-loihi extension, distributed to members "
    "of the Intel Neuromorphic Research Community (INRC; join via "
    "https://www.intel.com/content/www/us/en/research/neuromorphic-community.html) "
    "and installed on an INRC Loihi system"
)


def loihi_available() -> bool:
    """Whether Intel's lava-loihi extension is importable (Lava's own check)."""
    from lava.utils.loihi import is_installed

    return bool(is_installed())
