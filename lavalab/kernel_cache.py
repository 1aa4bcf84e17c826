"""One on-disk cache of lavalab's compiled kernels per machine, keyed by their sources.

numba's own cache (``cache=True``) checks a function against its *own* source file only:
a kernel that calls or inlines functions of other modules (the engine's step loop calls
the kernels of :mod:`lavalab.dynamics`) would keep stale machine code when those change.
So lavalab keeps its kernels in one folder per state of their sources::

    <base>/<key>    base: $LAVALAB_CACHE_DIR, else $NUMBA_CACHE_DIR/lavalab, else
                    $XDG_CACHE_HOME/lavalab/numba, else ~/.cache/lavalab/numba

``<key>`` (:func:`source_key`) hashes the text of every lavalab module that defines a
``cache=True`` kernel and of every lavalab module those import, transitively, with the
Python, numba, llvmlite and numpy versions: a change of any of them starts a new folder,
while an edit elsewhere (the CLI, the studies) keeps the compiled kernels.

:func:`install` (run by ``import lavalab``) puts one cache locator in front of numba's
that takes the functions defined in lavalab's own files only: other packages' functions,
``NUMBA_CACHE_DIR`` and ``numba.config.CACHE_DIR`` keep numba's behaviour (setting
``config.CACHE_DIR`` instead would move every package's cache, and numba resets it from
the environment whenever a ``NUMBA_*`` variable changes). The first lavalab kernel
compiled in a process says so in one line on stderr; a process that finds everything in
the cache compiles nothing and says nothing. A base folder that cannot be written (a
read-only install) is not an error: the kernels are then compiled for the process only
(into a temporary folder removed at exit), with a one-line note.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import os
import re
import sys
from pathlib import Path

__all__ = ["install", "install_when_numba_loads", "installed", "source_key", "cache_base",
           "cache_dir", "source_files",
           "COMPILE_NOTE"]

#: what the first kernel compilation of a process prints (``{dir}``: the cache folder)
COMPILE_NOTE = ("lavalab: compiling the engine's kernels once for this machine (~20 s), "
                "cached in {dir} ...")
_FALLBACK_NOTE = ("lavalab: cannot write the kernel cache {dir} ({err}); compiling the "
                  "kernels in memory for this process (~20 s) ...")

PACKAGE_DIR = Path(__file__).resolve().parent

_KERNEL_RE = re.compile(r"cache\s*=\s*True")
_FROM_RE = re.compile(r"^[ \t]*from[ \t]+(lavalab(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)",
                      re.M)
_IMPORT_RE = re.compile(r"^[ \t]*import[ \t]+(lavalab(?:\.\w+)*)", re.M)


class _State:
    """This process's cache folder (resolved at the first kernel) and notes."""

    installed = False
    directory: Path | None = None  # the folder in use
    fallback: tuple[Path, str] | None = None  # the folder that could not be used, and why
    noted = False


def cache_base(environ=os.environ) -> Path:
    """The folder that holds one subfolder per :func:`source_key`."""
    if environ.get("LAVALAB_CACHE_DIR"):
        return Path(environ["LAVALAB_CACHE_DIR"]).expanduser()
    if environ.get("NUMBA_CACHE_DIR"):
        return Path(environ["NUMBA_CACHE_DIR"]).expanduser() / "lavalab"
    xdg = environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "lavalab" / "numba"


def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """The source of module ``dotted`` (``lavalab.x.y``) under ``package_dir``."""
    parts = dotted.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for path in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


def _imports(package_dir: Path, text: str) -> list[Path]:
    """The lavalab modules ``text`` imports, with the ``__init__`` of their subpackages
    (for ``from lavalab.p import name``: ``p`` and the submodule ``p.name`` if any)."""
    found = [_module_file(package_dir, mod) for mod in _IMPORT_RE.findall(text)]
    for mod, names in _FROM_RE.findall(text):
        found.append(_module_file(package_dir, mod))
        for name in re.findall(r"\w+", re.sub(r"#[^\n]*", "", names)):
            found.append(_module_file(package_dir, f"{mod}.{name}"))
    found = {p for p in found if p is not None}
    return sorted(found.union(*(_packages(package_dir, p) for p in found)))


def _packages(package_dir: Path, path: Path) -> set[Path]:
    """The ``__init__`` files of the subpackages holding ``path`` (which run before it)."""
    inits = (package_dir / parent / "__init__.py"
             for parent in path.relative_to(package_dir).parents if parent.parts)
    return {init for init in inits if init.is_file()}


def source_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The lavalab sources the compiled kernels depend on: every module with a
    ``cache=True`` kernel and every lavalab module those import, transitively."""
    texts = {p: p.read_text(encoding="utf-8") for p in sorted(package_dir.rglob("*.py"))}
    todo = [p for p, text in texts.items() if _KERNEL_RE.search(text)]
    seen = set(todo)
    while todo:
        for dep in _imports(package_dir, texts[todo.pop()]):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return sorted(seen)


def source_key(package_dir: Path = PACKAGE_DIR) -> str:
    """16 hex digits: the kernels' sources (:func:`source_files`, by path inside the
    package and content) and the Python, numba, llvmlite and numpy versions."""
    import llvmlite
    import numba
    import numpy

    h = hashlib.sha256()
    h.update(repr((sys.implementation.cache_tag, sys.version, numba.__version__,
                   llvmlite.__version__, numpy.__version__)).encode())
    for path in source_files(package_dir):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _writable(path: Path) -> str | None:
    """None when ``path`` can be created and written into, else why not."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as err:
        return f"{type(err).__name__}: {err.strerror or err}"
    return None


def cache_dir() -> Path:
    """This process's kernel folder: ``cache_base() / source_key()``, or a temporary
    folder (removed at exit) when that cannot be written. Resolved once per process."""
    if _State.directory is None:
        wanted = cache_base() / source_key()
        err = _writable(wanted)
        if err is None:
            _State.directory = wanted
        else:
            import atexit
            import shutil
            import tempfile

            _State.fallback = (wanted, err)
            _State.directory = Path(tempfile.mkdtemp(prefix="lavalab-kernels-"))
            atexit.register(shutil.rmtree, _State.directory, ignore_errors=True)
    return _State.directory


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def _note_compile(dispatcher) -> None:
    """Print the one line of this process when it first compiles a cached lavalab kernel."""
    from numba.core.caching import NullCache

    code = getattr(getattr(dispatcher, "py_func", None), "__code__", None)
    if (_State.noted or code is None or not _in_package(code.co_filename)
            or isinstance(getattr(dispatcher, "_cache", None), NullCache)):
        return
    _State.noted = True
    if _State.fallback is not None:
        wanted, err = _State.fallback
        print(_FALLBACK_NOTE.format(dir=wanted, err=err), file=sys.stderr, flush=True)
    else:
        print(COMPILE_NOTE.format(dir=cache_dir()), file=sys.stderr, flush=True)


def install() -> None:
    """Route the numba cache of every function defined in lavalab's files to
    :func:`cache_dir`, and print :data:`COMPILE_NOTE` at a process's first compilation of
    one. Idempotent; must run before lavalab's kernels are decorated."""
    if _State.installed:
        return
    from numba.core import caching, event

    class LavalabLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        """Functions defined in lavalab's files: ``cache_dir() / <subpackage>``."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            rel = Path(py_file).resolve().parent.relative_to(PACKAGE_DIR).parts
            self._cache_path = str(cache_dir() / ".".join(("lavalab",) + rel))

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            return cache_dir().name  # the folder is keyed by the sources' content

        @classmethod
        def from_function(cls, py_func, py_file):
            if not _in_package(py_file):
                return None
            try:
                cache_dir()
            except OSError:  # not even a temporary folder: numba's own locators decide
                return None
            return super().from_function(py_func, py_file)

    class CompileNote(event.Listener):
        def on_start(self, ev):
            _note_compile(ev.data["dispatcher"])

        def on_end(self, ev):
            pass

    caching.CacheImpl._locator_classes.insert(0, LavalabLocator)
    event.register("numba:compile", CompileNote())
    _State.installed = True


class _AfterNumba(importlib.abc.MetaPathFinder):
    """Runs :func:`install` right after ``numba`` is imported, before any module can
    decorate a kernel with it: ``import lavalab`` itself does not import numba (the CLI's
    ``--help`` stays fast)."""

    def find_spec(self, fullname, path, target=None):  # noqa: D102 (importlib API)
        if fullname != "numba":
            return None
        sys.meta_path.remove(self)  # find numba's own spec, once
        try:
            spec = importlib.util.find_spec("numba")
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_then_install(module):
            exec_module(module)
            sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
            install()

        spec.loader.exec_module = exec_then_install
        return spec


def install_when_numba_loads() -> None:
    """:func:`install` now if numba is imported, else right after its import."""
    if "numba" in sys.modules:
        install()
    elif not any(isinstance(f, _AfterNumba) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterNumba())


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _State.installed
