"""A library's own virtual environment outside the checkout, for the benchmark scripts.

Libraries whose pins conflict with lavalab's (BindsNET's torch, sinabs' nir) run in a
virtual environment of their own under ``~/.cache/lavalab/`` (or the folder an environment
variable names), built once per machine with a plain ``pip install``, as a user would; a
fresh clone of lavalab reuses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path


class OwnVenv:
    """The environment ``~/.cache/lavalab/venv-NAME`` (or ``$ENV_VAR``) holding
    ``packages``; ``check`` is Python code run in it after the install (it prints the
    versions it got)."""

    def __init__(self, name: str, env_var: str, packages: list[str], check: str,
                 note: str = ""):
        self.path = Path(os.environ.get(env_var)
                         or Path.home() / ".cache" / "lavalab" / f"venv-{name}").expanduser()
        self.mark = self.path / f".{name}-installed"
        self.packages, self.check, self.note = packages, check, note

    def python(self) -> Path:
        return self.path / "bin" / "python"

    def build(self, log=sys.stderr) -> Path:
        """Create the venv and install the packages into it (no-op when already built)."""
        if self.mark.is_file():
            return self.python()
        print(f"building {self.path} ({', '.join(self.packages)}{self.note}) ...", file=log,
              flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(self.path)
        (self.path / ".gitignore").write_text("*\n")
        subprocess.run([str(self.python()), "-m", "pip", "install", "--quiet",
                        *self.packages], check=True)
        subprocess.run([str(self.python()), "-c", self.check], check=True, stdout=log)
        self.mark.write_text("\n".join(self.packages) + "\n")
        return self.python()
