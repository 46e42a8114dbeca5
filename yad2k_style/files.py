"""Files: atomic output (a temporary file in the destination folder, then rename) and checked text input.

A reader never sees a half-written file, and a failure leaves no partial output behind. Text files are
read as UTF-8; a missing, unreadable or undecodable file is a :class:`~yad2k_style.errors.FormatError`
naming it.
"""

import contextlib
import errno
import os
import shutil
import signal
import tempfile
from pathlib import Path

from yad2k_style.errors import FormatError, YadError


def read_text(path, binary_hint=None):
    """The UTF-8 text of ``path``; :class:`FormatError` (one line, naming the file) when it cannot be
    read. ``binary_hint`` is added to the message when the file is not text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except IsADirectoryError:
        raise FormatError(path, "is a directory, not a file") from None
    except PermissionError:
        raise FormatError(path, "permission denied") from None
    except UnicodeDecodeError as exc:
        hint = f"; {binary_hint}" if binary_hint else ""
        raise FormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}){hint}") from None


def set_default_mode(path):
    """Give a file or directory from ``tempfile`` (mode 0600/0700) the mode ``open``/``mkdir`` would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~umask)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` with the same suffixes (``.weights.h5`` stays whole);
    on success rename it to ``path``, on failure remove it."""
    path = Path(path)
    if path.is_dir():
        raise FormatError(path, "is a directory; give a file name to write")
    suffix = "".join(path.suffixes)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:-len(suffix) or None]}.",
                                             suffix=suffix)
    os.close(handle)
    set_default_mode(temporary)
    try:
        with _writing(path):
            yield Path(temporary)
            os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


#: The errors of writing that the user can act on (permissions, space, a read-only file system, quota).
WRITE_ERRORS = (errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def _writing(path):
    """Turn an operating-system error of writing ``path`` into one line naming it: a :class:`YadError`."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        raise YadError(f"{path}: cannot write: {exc.strerror.lower()}") from None


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a new empty directory beside ``path`` to fill; on success rename it to ``path`` (which must
    not exist), on failure remove it, so a reader never sees a half-written directory."""
    path = Path(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        set_default_mode(staging)
        yield staging
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_args):
    """Open a temporary file beside ``path`` for writing (``open``'s ``mode`` and keywords); on success
    it replaces ``path`` at once, on error it is removed and ``path`` is left as it was."""
    with atomic_path(path) as temporary, open(temporary, mode, **open_args) as file:
        yield file


def write_text_atomically(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


#: The environment variable that arms :func:`kill_point`: ``NAME`` kills at the first pass through the
#: point ``NAME``, ``NAME#K`` at the K-th.
KILL_AT = "YAD2K_STYLE_KILL_AT"
_passes = {}


def kill_point(name):
    """A fixed point of long work where a test can kill this process at once (SIGKILL: no cleanup, as a
    power cut or the kernel's out-of-memory killer does), by setting :data:`KILL_AT`; otherwise nothing.
    The tests of interrupted conversions and training runs use it (``tests/hostile``)."""
    armed = os.environ.get(KILL_AT)
    if not armed or armed.partition("#")[0] != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == int(armed.partition("#")[2] or 1):
        os.kill(os.getpid(), signal.SIGKILL)
