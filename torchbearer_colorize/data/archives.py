"""Extract a downloaded archive only when none of its members could land outside the folder.

Every member of the whole archive is checked before anything is written: no absolute path, no ``..``
that climbs out, no path through one of the archive's own symbolic links, no device file or FIFO;
a tar's symbolic links must point inside the folder (relative, not through another link) and its
hard links to another path inside it; a zip may hold no symbolic link at all (``zipfile`` would write
it as a small file holding the target's name) nor any other special file. The folder is new and
empty, so a path checked this way is where the member lands. Names are compared case- and
Unicode-normalisation-insensitively, as some file systems do. Tar archives are then extracted with
tarfile's ``"data"`` filter where the Python has it (3.12+ and the 2023 security releases of 3.8-3.11)
as a second guard; the check above is what makes the behaviour the same on every Python.
"""
import contextlib
import stat
import tarfile
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import UserError


class _Outside(Exception):
    """Why a path may not be extracted."""


def _key(parts):
    return tuple(unicodedata.normalize("NFC", part).casefold() for part in parts)


def _walk(start, name, links):
    """The components of ``name`` followed from the folder ``start`` (a list of components); raises
    ``_Outside`` when it is absolute, climbs out, or goes through a link (``links``: the links' ``_key``)."""
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
        raise _Outside("is an absolute path")
    path = list(start)
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if _key(path) in links:
            raise _Outside(f"goes through the archive's symbolic link {'/'.join(path)!r}")
        if part == "..":
            if not path:
                raise _Outside("climbs out of the folder with '..'")
            path.pop()
        else:
            path.append(part)
    return path


def _tar_problem(member, links):
    if member.ischr() or member.isblk() or member.isfifo():
        return "is a device file or FIFO"
    path = _walk([], member.name, links)
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        try:  # a symbolic link's target is taken from its folder, a hard link's from the top
            _walk(path[:-1] if member.issym() else [], member.linkname, links)
        except _Outside as why:
            return f"is a {kind} link to {member.linkname!r}, which {why}"
    return None


def _zip_problem(info):
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "is a symbolic link (refused in zip archives)"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is a device file, FIFO or socket"
    _walk([], info.filename, set())
    return None


def first_unsafe(archive):
    """``(member name, why)`` for the first member of ``archive`` (a .zip, else a tar of any compression)
    that may not be extracted, or None when all may."""
    if Path(archive).suffix.lower() == ".zip":
        with zipfile.ZipFile(archive) as zf:
            members, problem = [(info.filename, info) for info in zf.infolist()], _zip_problem
    else:
        with tarfile.open(archive) as tar:
            members = [(member.name, member) for member in tar.getmembers()]
        links = set()
        for _, member in members:
            if member.issym():
                with contextlib.suppress(_Outside):  # else refused below
                    links.add(_key(_walk([], member.name, set())))
        problem = lambda member: _tar_problem(member, links)  # noqa: E731
    for name, member in members:
        try:
            why = problem(member)
        except _Outside as outside:
            why = str(outside)
        if why:
            return name, why
    return None


def extract(archive, folder, label):
    """Extract ``archive`` into ``folder`` (new and empty) after :func:`first_unsafe` found nothing; else raise a
    ``UserError`` naming ``label`` (where the archive came from) and the first bad member, writing nothing."""
    bad = first_unsafe(archive)
    if bad:
        raise UserError(f"refusing the archive {label}: its member {bad[0]!r} {bad[1]}; nothing was extracted "
                        "(an archive of Fruits-360 holds only folders and images: check --url)")
    if Path(archive).suffix.lower() == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(folder)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
