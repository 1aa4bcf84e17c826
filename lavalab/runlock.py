"""One run per output: the lock a command holds on its ``--out`` while it writes there.

A folder ``--out`` is locked by ``<out>/.lavalab.lock``, a file ``--out`` (or a folder that
must stay free of foreign files, such as a deploy bundle) by ``<out>.lock`` beside it. The
lock file holds the holder's pid, host, start time (UTC) and command line, as JSON.

The lock itself is the kernel's: an ``fcntl.flock`` on the opened lock file, which the
kernel drops when its holder ends in any way, ``kill -9`` included. A second run given the
same output is refused with :class:`OutputInUse` (one line naming the output, the holder and
what to do); a lock file whose holder has died is stale: it is taken over, with a one-line
note on stderr naming the dead pid. The lock file is removed when the run ends (normally,
by an error, by Ctrl-C or SIGTERM). Where ``flock`` is not available (no ``fcntl``, or a
network file system answering ``OSError``), the lock file is created exclusively
(``O_EXCL``) instead and a left-over one is stale when its pid is no longer alive on this
host.

A base module: the standard library only (``lavalab --help`` must stay fast).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: the O_EXCL fallback
    fcntl = None

__all__ = ["LOCK_FORMAT", "LOCK_VERSION", "FOLDER_LOCK_NAME", "OutputInUse", "RunLock",
           "lock_path", "acquire", "hold"]

LOCK_FORMAT = "lavalab-lock"
LOCK_VERSION = 1
#: Name of the lock file inside a folder ``--out``.
FOLDER_LOCK_NAME = ".lavalab.lock"
#: Errors of ``flock`` that mean "another holder", not "flock does not work here".
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


class OutputInUse(RuntimeError):
    """Another run holds the lock of this output (exit 2, one line)."""


def lock_path(out, folder: bool = True) -> Path:
    """The lock file of ``out``: ``out/.lavalab.lock`` (``folder``) or ``out.lock``."""
    out = Path(out)
    return out / FOLDER_LOCK_NAME if folder else out.with_name(out.name + ".lock")


def _command_line() -> str:
    return shlex.join(["lavalab", *sys.argv[1:]])


def _holder_record(command: str | None) -> dict:
    return {"format": LOCK_FORMAT, "version": LOCK_VERSION, "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "command": command if command is not None else _command_line()}


def _read_holder(path: Path) -> dict | None:
    """The holder record in ``path``, or None when it is missing, empty or damaged."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(rec, dict) or rec.get("format") != LOCK_FORMAT
            or not isinstance(rec.get("pid"), int)):
        return None
    return rec


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return True  # cannot tell: assume alive (never take a live run's lock)
    return True


def _describe(rec: dict | None) -> str:
    if rec is None:
        return "by another run (its lock file is being written or unreadable)"
    return (f"by pid {rec['pid']} on {rec.get('host', '?')}, started {rec.get('started', '?')}"
            f": {rec.get('command', '?')}")


def _refusal(out: str, path: Path, rec: dict | None, flock: bool) -> OutputInUse:
    here = rec is not None and rec.get("host") == socket.gethostname()
    other = f"give another {out.split(' ', 1)[0]}"  # the flag that named it
    if flock and here and not _pid_alive(rec["pid"]):
        todo = (f"pid {rec['pid']} has ended but a process it started still holds the "
                f"lock: stop that process, or {other}")
    elif flock:
        todo = f"wait for that run to end (or stop it), or {other}"
    else:
        todo = (f"wait for that run to end, or {other}; if it is no longer "
                f"running, delete {path}")
    return OutputInUse(f"{out} is in use {_describe(rec)}; {todo}")


def _note_stale(out: str, rec: dict | None) -> None:
    who = (f"pid {rec['pid']} on {rec.get('host', '?')}, started {rec.get('started', '?')}"
           if rec else "a run whose record is unreadable")
    print(f"lavalab: note: {out}: took over the lock left by a run that ended without "
          f"releasing it ({who})", file=sys.stderr)


class RunLock:
    """A held lock (made by :func:`acquire`); :meth:`release` removes the lock file."""

    def __init__(self, path: Path, fd: int, created: list[Path], flock: bool) -> None:
        self.path, self._fd, self._created, self.flock = path, fd, created, flock

    def release(self) -> None:
        """Remove the lock file, then drop the lock; folders made for it go if empty."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            held, now = os.fstat(self._fd), os.stat(self.path)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):  # still ours
                self.path.unlink()
        os.close(self._fd)
        self._fd = -1
        for d in self._created:  # deepest first; a folder the run wrote into stays
            try:
                d.rmdir()
            except OSError:
                break

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _make_folders(d: Path) -> list[Path]:
    """Create ``d`` and missing parents; the created ones, deepest first."""
    missing = []
    while not d.exists():
        missing.append(d)
        if d.parent == d:
            break
        d = d.parent
    for m in reversed(missing):
        m.mkdir(exist_ok=True)
    return missing


def _write_record(fd: int, path: Path, rec: dict) -> None:
    """Write the holder record; on failure (a full disk) the lock file goes, unlocked."""
    data = (json.dumps(rec) + "\n").encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
        raise


def _try_flock(path: Path, out: str, rec: dict, note) -> int | None:
    """The fd of ``path`` locked with flock; None when flock is not available here."""
    for _ in range(20):  # the file may be replaced between open and flock: try again
        existed = path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in _BUSY:
                raise _refusal(out, path, _read_holder(path), True) from None
            if not existed:  # flock does not work on this file system: O_EXCL instead
                path.unlink(missing_ok=True)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder removed it as we opened it: lock the new one
            os.close(fd)
            continue
        if os.fstat(fd).st_size:  # a lock file nobody holds: its run died
            note(out, _read_holder(path))
        _write_record(fd, path, rec)
        return fd
    raise OutputInUse(f"{out}: the lock file {path} keeps changing; another run is "
                      f"starting there: give another {out.split(' ', 1)[0]}")


def _try_exclusive(path: Path, out: str, rec: dict, note) -> int:
    """The fd of ``path`` created with O_EXCL (no flock); a dead holder's file is removed."""
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            old = _read_holder(path)
            if old is None and time.time() - _mtime(path) < 10:
                raise _refusal(out, path, old, False) from None  # being written
            if old is not None and (old.get("host") != socket.gethostname()
                                    or _pid_alive(old["pid"])):
                raise _refusal(out, path, old, False) from None
            note(out, old)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        _write_record(fd, path, rec)
        return fd
    raise OutputInUse(f"{out}: could not create the lock file {path}; another run is "
                      f"starting there: give another {out.split(' ', 1)[0]}")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _unwritable(out: str, path: Path, err: OSError) -> Exception:
    """A full disk stays an OSError (answered as such, naming the lock file); other
    causes become a ValueError naming --out."""
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return OSError(err.errno, err.strerror, str(path))
    return ValueError(f"{out} is not writable: cannot create {path} "
                      f"({err.strerror or err})")


def acquire(out, *, folder: bool = True, command: str | None = None, flag: str = "--out",
            note: Callable[[str, dict | None], None] = _note_stale) -> RunLock:
    """Lock the output ``out`` (a folder, created if missing, or a file) for this process.

    Parameters
    ----------
    out : the output (``--out``).
    folder : ``out`` is a folder: the lock file is inside it; else beside it.
    command : the command line recorded (default: ``lavalab`` and this process's arguments).
    flag : how messages name ``out`` (the option or argument that gave it).
    note : called with ``(flag and out, old holder record or None)`` when a stale lock is
        taken over (default: one line on stderr).

    Raises :class:`OutputInUse` when another live run holds it; ``ValueError`` when a folder
    ``out`` is a file.
    """
    out = Path(out)
    if folder and out.exists() and not out.is_dir():
        raise ValueError(f"{flag} {out} is an existing file, not a folder")
    path = lock_path(out, folder)
    named = f"{flag} {out}"
    try:
        created = _make_folders(path.parent)
    except OSError as err:
        raise _unwritable(named, path, err) from err
    rec = _holder_record(command)
    try:
        try:
            fd = _try_flock(path, named, rec, note) if fcntl is not None else None
            flock = fd is not None
            if fd is None:
                fd = _try_exclusive(path, named, rec, note)
        except OSError as err:
            raise _unwritable(named, path, err) from err
    except BaseException:
        for d in created:
            try:
                d.rmdir()
            except OSError:
                break
        raise
    return RunLock(path, fd, created, flock)


@contextlib.contextmanager
def hold(out, *, folder: bool = True, command: str | None = None,
         flag: str = "--out") -> Iterator[RunLock]:
    """``with hold(out):`` the body runs holding the lock of ``out`` (:func:`acquire`);
    it is released however the body ends."""
    lock = acquire(out, folder=folder, command=command, flag=flag)
    try:
        yield lock
    finally:
        lock.release()
