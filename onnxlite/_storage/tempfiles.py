"""Temporary files and folders that a killed writer does not leave behind.

A file is written through an unnamed temporary file where the OS offers one (Linux O_TMPFILE):
it has no name until the write is complete, when it is linked into the folder under a temporary
name (linkat through /proc/self/fd) and renamed over its target at once, so a SIGKILL at any
moment but the instant between those two calls leaves nothing. Elsewhere (and for folders, which
cannot be unnamed) the temporary gets a hidden name that carries the writer's process id:
``.TARGET.onnxlite-PID-RANDOM.tmp``. Every later write beside the same target first removes
what writers that no longer run left under that naming, and only that.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import zlib
from collections.abc import Iterable
from pathlib import Path

from onnxlite._storage import paths as _paths

#: set to False (tests, or a file system that misbehaves) to always use named temporary files
USE_UNNAMED = True
_TAG = "onnxlite"


def temp_name(target: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden name beside ``target`` in onnxlite's naming, carrying this process's id."""
    return target.parent / f".{target.name}.{_TAG}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.{_TAG}-(\d+)-[0-9a-f]{{8}}\.(tmp|bak|old)\Z")


def is_own_temporary(name: str) -> bool:
    """Whether a file name has onnxlite's temporary naming (for any target and writer)."""
    return re.fullmatch(rf"\..+\.{_TAG}-\d+-[0-9a-f]{{8}}(?:\.m\d+-[0-9a-f]{{8}})?\.(tmp|bak|old)",
                        name) is not None


# --- backups of data files a save replaces ------------------------------------------------------
#
# A save replaces its data files first and the model file last; an existing data file is kept as
# a hard-linked backup until the model file is in place. A SIGKILL between those renames leaves
# the old model beside new data. The backup's name says which save made it: the inode of the model
# file that save wrote and a checksum of the model's name. The next save of that model puts a
# dead writer's backup back when its model never landed, and drops it when it did.

def _model_tag(model: Path, inode: int) -> str:
    return f"m{inode}-{zlib.crc32(os.path.realpath(model).encode()):08x}"


def backup_name(target: Path, model: Path, model_inode: int) -> Path:
    """A hidden name for the backup of data file ``target`` made by a save writing ``model``."""
    return temp_name(target, f".{_model_tag(model, model_inode)}.bak")


_BACKUP = re.compile(rf"\.(.+)\.{_TAG}-(\d+)-[0-9a-f]{{8}}\.(m\d+-[0-9a-f]{{8}})\.bak")


def recover_backups(folders: Iterable[Path], model: Path) -> None:
    """Settle the data-file backups that killed saves of ``model`` left in ``folders``: put each
    back over its data file when that save's model file never replaced ``model`` (the model on
    disk still reads the old bytes), else remove it. Backups of running writers are left."""
    try:
        inode = os.stat(model).st_ino
    except OSError:
        inode = -1
    checksum = _model_tag(model, 0).split("-")[1]
    for folder in dict.fromkeys(folders):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _BACKUP.fullmatch(entry.name)
            if match is None or not match.group(3).endswith(checksum) or _alive(int(match.group(2))):
                continue
            try:
                if match.group(3) != _model_tag(model, inode):  # the old model is in place
                    os.replace(entry.path, Path(folder) / match.group(1))
                if os.path.lexists(entry.path):  # landed, or already the same file
                    os.unlink(entry.path)
            except OSError:
                pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's running process
    except OSError:
        return True  # cannot tell: keep the file
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporaries, backups and set-aside folders that killed writers of ``target``
    left beside it: only names of onnxlite's own pattern whose writer process is gone. A folder
    set aside (``.old``) whose target is missing is renamed back instead. Returns what was
    removed; a file it cannot remove is left, never an error."""
    pattern = _pattern(target.name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = Path(entry.path)
        try:
            if match.group(2) == "old" and not os.path.lexists(target):
                # killed between setting the previous folder aside and moving the new one in:
                # the previous one is all there is, so it goes back
                os.replace(path, target)
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


class TempFile:
    """A file being written for ``target``: unnamed while open where the OS allows it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path: Path | None = None  # its name, once it has one
        self.fd = -1
        flag = getattr(os, "O_TMPFILE", 0)
        if USE_UNNAMED and flag and os.path.isdir("/proc/self/fd"):
            try:
                self.fd = os.open(target.parent, flag | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
            except OSError:  # EOPNOTSUPP/EISDIR/EINVAL: this file system has no unnamed files
                self.fd = -1
        if self.fd < 0:
            self.path = temp_name(target)
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            self.fd = os.open(self.path, flags, 0o600)

    @property
    def unnamed(self) -> bool:
        return self.path is None

    def finish(self) -> None:
        """Set the mode a new file would get (umask applied); the content is complete."""
        os.fchmod(self.fd, 0o666 & ~_paths.current_umask())

    def name_it(self) -> Path:
        """Give an unnamed file its temporary name (the last step before `commit`)."""
        if self.path is None:
            path = temp_name(self.target)
            # linkat(AT_SYMLINK_FOLLOW): CPython calls linkat (not link, which would link the
            # /proc symlink itself) only when a dir_fd is given, hence the folder's descriptor
            folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.link(f"/proc/self/fd/{self.fd}", path.name, dst_dir_fd=folder, follow_symlinks=True)
            finally:
                os.close(folder)
            self.path = path
        return self.path

    def commit(self) -> None:
        """Put the file in place of its target, atomically."""
        os.replace(self.name_it(), self.target)
        self.path = None
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def discard(self) -> None:
        """Drop the file (an unnamed one simply vanishes with its descriptor)."""
        self.close()
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None


def make_temp_dir(target: Path) -> Path:
    """A new hidden folder beside ``target`` in onnxlite's naming (folders cannot be unnamed)."""
    while True:
        path = temp_name(target)
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
