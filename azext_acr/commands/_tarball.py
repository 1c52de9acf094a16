"""Directories as oras packs them: a tar (entries under ``<title>/``) compressed with gzip, and back.

Packing streams tar → gzip → file in one pass, hashing the uncompressed tar on the way (oras'
``io.deis.oras.content.digest``). Unpacking streams the other way and trusts nothing in the archive:
every entry must stay under ``<title>/``, links may not point outside it, no devices or fifos, and the
tar's digest must match the annotation before the tree is handed back.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import posixpath
import tarfile
from pathlib import Path

BLOCK = 1024 * 1024


class UnsafeArchive(Exception):
    """The archive would write outside its directory, or is not what its annotation says."""


class _HashingWriter:
    def __init__(self, target):
        self._target = target
        self.hash = hashlib.sha256()

    def write(self, data) -> int:
        self.hash.update(data)
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()


class _HashingReader:
    def __init__(self, source):
        self._source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(BLOCK):
            pass


def _normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Owners mean nothing on another machine; leaving them out makes equal trees give equal tars.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def pack_directory(directory: str | os.PathLike, title: str, archive: Path) -> str:
    """Write ``directory`` as ``archive`` (tar+gzip, entries under ``title/``, sorted); return the tar's digest."""
    root = Path(directory)
    with open(archive, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                  compresslevel=6) as compressed:
        writer = _HashingWriter(compressed)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            tar.add(root, arcname=title, recursive=False, filter=_normalize)
            for current, dirs, files in os.walk(root):
                dirs.sort()
                relative = Path(current).relative_to(root)
                for name in sorted(dirs + files):
                    path = Path(current) / name
                    tar.add(path, arcname=posixpath.join(title, *relative.parts, name), recursive=False,
                            filter=_normalize)
    return "sha256:" + writer.hash.hexdigest()


def _check_member(member: tarfile.TarInfo, title: str) -> None:
    name = member.name.rstrip("/")
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts or "\x00" in name:
        raise UnsafeArchive(f"entry '{member.name}' has an absolute or parent path.")
    if name != title and not name.startswith(title + "/"):
        raise UnsafeArchive(f"entry '{member.name}' is not under '{title}/'.")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(f"entry '{member.name}' is a device or fifo.")
    if member.issym() or member.islnk():
        target = member.linkname
        if target.startswith("/") or "\\" in target:
            raise UnsafeArchive(f"link '{member.name}' points to an absolute path.")
        base = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved != title and not resolved.startswith(title + "/"):
            raise UnsafeArchive(f"link '{member.name}' points outside '{title}/'.")


def unpack_directory(archive: Path, into: Path, title: str, tar_digest: str | None) -> None:
    """Unpack ``archive`` into ``into`` (which must not exist); the tree lands at ``into/title``."""
    into.mkdir()
    with gzip.open(archive, "rb") as compressed:
        reader = _HashingReader(compressed)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:

                def members():
                    for member in tar:
                        _check_member(member, title)
                        yield member

                # The "data" filter is a second net: it also refuses escaping paths and links, and
                # drops set-uid bits and other modes an artifact has no business setting.
                tar.extractall(into, members=members(), filter="data")
            reader.drain()
        except (tarfile.TarError, EOFError, OSError) as err:
            if isinstance(err, tarfile.FilterError):
                raise UnsafeArchive(str(err)) from None
            if isinstance(err, OSError) and not isinstance(err, gzip.BadGzipFile | EOFError):
                raise
            raise UnsafeArchive(f"it is not a valid tar+gzip archive ({err}).") from None
    if tar_digest and "sha256:" + reader.hash.hexdigest() != tar_digest:
        raise UnsafeArchive(f"its content does not match {tar_digest}.")
    if not (into / title).is_dir():
        raise UnsafeArchive(f"it holds no '{title}/' directory.")
