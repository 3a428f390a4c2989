"""Copy a folder someone else controls without following anything in it (used by collect.py).

The folder's owner may swap any entry for a symbolic link, a FIFO, a device or
another folder at any moment. So every entry is looked at with lstat, opened
relative to its parent's open descriptor with O_NOFOLLOW (files also
O_NONBLOCK: a FIFO swapped in cannot hang the copy), and fstat must show the
same inode, the same type and the expected owner before a byte is read.
Links, FIFOs, sockets and devices, a folder seen twice, entries of another
owner (planted, or hard links to someone else's file) and anything beyond the
precheck's `FOLDER_LIMITS` (entries, depth, bytes counted as read) raise
`Refused` with a message for the instructor.
"""
from __future__ import annotations

import fnmatch
import os
import stat

from .precheck import FOLDER_LIMITS, shown

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | O_CLOEXEC
O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | O_CLOEXEC
IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]  # nbgrader's CourseDirectory.ignore
CHUNK = 1 << 20


class Refused(Exception):
    """The folder is not copied; the message says why (it is shown to the instructor, escaped)."""


class _Tally:
    def __init__(self):
        self.entries = 0
        self.bytes = 0
        self.newest = 0.0
        self.seen = set()


def _open_checked(name, dir_fd, flags, expect, uid, rel):
    """Open name (relative to dir_fd) without following it; fstat must match the lstat `expect`."""
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        raise Refused(f"{rel} changed while it was being collected ({e.strerror})") from None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino) or st.st_uid != uid \
            or stat.S_IFMT(st.st_mode) != stat.S_IFMT(expect.st_mode):
        os.close(fd)
        raise Refused(f"{rel} changed while it was being collected")
    return fd


def _copy_file(fd, out, rel, tally):
    """Copy the open regular file fd to out, counting its bytes as read against the folder's limit."""
    with open(out, "xb") as dest:
        while True:
            room = FOLDER_LIMITS["bytes"] - tally.bytes
            chunk = os.read(fd, min(CHUNK, room + 1))
            if not chunk:
                return
            tally.bytes += len(chunk)
            if tally.bytes > FOLDER_LIMITS["bytes"]:
                raise Refused(f"its files add up to more than {FOLDER_LIMITS['bytes'] // 2**20} MB")
            dest.write(chunk)


def _names(fd, tally):
    """The names in the folder open as fd, read one at a time and counted (ignored ones too) against
    the folder's limit, so a folder of a million entries is refused without being listed whole."""
    names = []
    with os.scandir(fd) as entries:
        for entry in entries:
            tally.entries += 1
            if tally.entries > FOLDER_LIMITS["entries"]:
                raise Refused(f"it holds more than {FOLDER_LIMITS['entries']} files and folders")
            names.append(entry.name)
    return sorted(names)


def _copy_dir(fd, out, depth, rel, uid, tally, ignore):
    """Copy the folder open as fd into the existing folder out; refuses anything not a plain file or folder."""
    for name in _names(fd, tally):
        here = f"{rel}/{name}" if rel else name
        if any(fnmatch.fnmatch(name, pat) for pat in ignore) or (depth == 0 and name == "timestamp.txt"):
            continue  # nbgrader's ignore list; the time of submission is the filesystem's, written by us
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        kind = stat.S_IFMT(st.st_mode)
        if kind == stat.S_IFLNK:
            raise Refused(f"it holds a symbolic link {shown(here)}")
        if kind not in (stat.S_IFDIR, stat.S_IFREG):
            raise Refused(f"it holds a special file {shown(here)}")
        if st.st_uid != uid:  # planted by someone else, or a hard link to another user's file
            raise Refused(f"{shown(here)} belongs to another user")
        tally.newest = max(tally.newest, st.st_ctime)
        if kind == stat.S_IFREG:
            if tally.bytes + st.st_size > FOLDER_LIMITS["bytes"]:  # apparent size: a sparse file copies whole
                raise Refused(f"its files add up to more than {FOLDER_LIMITS['bytes'] // 2**20} MB")
            sub = _open_checked(name, fd, O_FILE, st, uid, shown(here))
            try:
                _copy_file(sub, os.path.join(out, name), shown(here), tally)
            finally:
                os.close(sub)
            continue
        if depth + 1 > FOLDER_LIMITS["depth"]:
            raise Refused(f"its folders are nested more than {FOLDER_LIMITS['depth']} deep")
        if (st.st_dev, st.st_ino) in tally.seen:
            raise Refused(f"{shown(here)} is a folder seen before (a loop)")
        tally.seen.add((st.st_dev, st.st_ino))
        sub = _open_checked(name, fd, O_DIR, st, uid, shown(here))
        try:
            os.mkdir(os.path.join(out, name), 0o755)
            _copy_dir(sub, os.path.join(out, name), depth + 1, here, uid, tally, ignore)
        finally:
            os.close(sub)


def copy_inbound(inbound_fd, name, uid, dest, ignore=IGNORE):
    """Copy inbound/<name> (owned by uid) into the new folder dest; returns the newest ctime (seconds).

    Raises Refused for anything that is not a plain folder of plain files, all
    owned by uid, within FOLDER_LIMITS. dest is left half-written on Refused:
    the caller removes it.
    """
    st = os.stat(name, dir_fd=inbound_fd, follow_symlinks=False)
    top = _open_checked(name, inbound_fd, O_DIR, st, uid, shown(name))
    try:
        tally = _Tally()
        tally.newest = st.st_ctime
        tally.seen.add((st.st_dev, st.st_ino))
        os.mkdir(dest, 0o755)
        _copy_dir(top, dest, 0, "", uid, tally, ignore)
        return tally.newest
    except OSError as e:  # anything the student's folder does to us is their folder's problem
        raise Refused(f"it could not be copied ({e.strerror or e})") from None
    finally:
        os.close(top)
