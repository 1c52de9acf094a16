"""Content-addressed blob storage.

A blob only becomes visible under its digest after the bytes written were hashed while streaming and
the hash matched: uploads go to `uploads/<session id>`, which is fsynced and atomically renamed into
`blobs/sha256/<first two hex>/<hex>`. So a crash (even SIGKILL) never leaves a partial blob visible, and
concurrent pushes of one blob all succeed with one file. Nothing is ever read whole into memory on disk.

Readers open the file before answering, so a blob deleted while it is being streamed still finishes
(POSIX keeps an unlinked file's bytes while it is open); one deleted before is a clean 404.

Upload files are flushed to the OS after every request, so a session survives a restart of the emulator
with every byte it acknowledged; its hash state is rebuilt by reading the file again.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

READ_CHUNK = 1 << 20


class Upload(Protocol):
    """Bytes of one upload session, hashed as they arrive."""

    size: int

    def write(self, chunk: bytes) -> None: ...

    def flush(self) -> None:
        """Hand what was written to the OS, so it survives the process."""

    def digest(self) -> str: ...

    async def commit(self) -> str:
        """Make the bytes visible under their digest and return it."""

    async def discard(self) -> None: ...


class BlobStore(Protocol):
    def size(self, digest: str) -> int | None: ...

    def new_upload(self, upload_id: str) -> Upload: ...

    def resume_upload(self, upload_id: str) -> Upload | None:
        """The upload recorded under this id before a restart, or None if its bytes are gone."""

    def open(self, digest: str) -> tuple[BinaryIO, int] | None:
        """An open reader of a blob and its size, or None when it is not stored."""

    def read_small(self, digest: str, limit: int) -> bytes | None: ...

    def delete(self, digest: str) -> None: ...

    def touch(self, digest: str) -> None:
        """Mark a blob as just used (garbage collection spares recently touched blobs)."""

    def stored(self) -> Iterator[tuple[str, float, int]]:
        """(digest, last touched, size) of every stored blob."""

    def upload_ids(self) -> set[str]: ...

    def drop_upload_file(self, upload_id: str) -> None: ...


def _hex(digest: str) -> str:
    # Digests are validated against `sha256:[a-f0-9]{64}` before they get here; assert it anyway,
    # since this string becomes a file name.
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return hexpart


def _check_upload_id(upload_id: str) -> str:
    if not upload_id or not upload_id.replace("-", "").isalnum():
        raise ValueError("bad upload id")
    return upload_id


class DiskUpload:
    def __init__(self, store: DiskBlobStore, path: Path, resume: bool = False):
        self._store = store
        self._path = path
        self._hash = hashlib.sha256()
        self.size = 0
        if resume:
            with open(path, "rb") as existing:
                while chunk := existing.read(READ_CHUNK):
                    self._hash.update(chunk)
                    self.size += len(chunk)
        self._file = open(path, "ab" if resume else "wb")  # noqa: SIM115 - lives as long as the session

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def flush(self) -> None:
        self._file.flush()

    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    async def commit(self) -> str:
        digest = self.digest()
        final = self._store.path_for(digest)

        def finish() -> None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                self._path.unlink(missing_ok=True)
                _touch(final)
            else:
                os.replace(self._path, final)
                _touch(final)
                _fsync_dir(final.parent)

        await asyncio.to_thread(finish)
        return digest

    async def discard(self) -> None:
        def drop() -> None:
            self._file.close()
            self._path.unlink(missing_ok=True)

        await asyncio.to_thread(drop)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskBlobStore:
    """Blobs under `<root>/blobs`, uploads in progress under `<root>/uploads`."""

    def __init__(self, root: Path):
        self.blobs = root / "blobs" / "sha256"
        self.uploads = root / "uploads"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)

    def path_for(self, digest: str) -> Path:
        hexpart = _hex(digest)
        return self.blobs / hexpart[:2] / hexpart

    def size(self, digest: str) -> int | None:
        try:
            return self.path_for(digest).stat().st_size
        except FileNotFoundError:
            return None

    def new_upload(self, upload_id: str) -> DiskUpload:
        return DiskUpload(self, self.uploads / _check_upload_id(upload_id))

    def resume_upload(self, upload_id: str) -> DiskUpload | None:
        path = self.uploads / _check_upload_id(upload_id)
        if not path.is_file():
            return None
        return DiskUpload(self, path, resume=True)

    def open(self, digest: str) -> tuple[BinaryIO, int] | None:
        try:
            f = open(self.path_for(digest), "rb")  # noqa: SIM115 - the caller streams and closes it
        except FileNotFoundError:
            return None
        return f, os.fstat(f.fileno()).st_size

    def read_small(self, digest: str, limit: int) -> bytes | None:
        size = self.size(digest)
        if size is None or size > limit:
            return None
        try:
            return self.path_for(digest).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)

    def touch(self, digest: str) -> None:
        _touch(self.path_for(digest))

    def stored(self) -> Iterator[tuple[str, float, int]]:
        for prefix in sorted(self.blobs.iterdir()):
            if not prefix.is_dir():
                continue
            for path in prefix.iterdir():
                name = path.name
                if len(name) != 64 or not name.startswith(prefix.name):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                yield "sha256:" + name, st.st_mtime, st.st_size

    def upload_ids(self) -> set[str]:
        return {p.name for p in self.uploads.iterdir() if p.is_file()}

    def drop_upload_file(self, upload_id: str) -> None:
        (self.uploads / _check_upload_id(upload_id)).unlink(missing_ok=True)


class MemoryUpload:
    def __init__(self, store: MemoryBlobStore):
        self._store = store
        self._buffer = io.BytesIO()
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._buffer.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def flush(self) -> None:
        pass

    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    async def commit(self) -> str:
        digest = self.digest()
        self._store.blobs.setdefault(digest, self._buffer.getvalue())
        self._store.touched[digest] = time.time()
        self._buffer = io.BytesIO()
        return digest

    async def discard(self) -> None:
        self._buffer = io.BytesIO()


class MemoryBlobStore:
    """For `--in-memory`: blobs live in a dict and vanish with the process."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.touched: dict[str, float] = {}

    def size(self, digest: str) -> int | None:
        blob = self.blobs.get(digest)
        return None if blob is None else len(blob)

    def new_upload(self, upload_id: str) -> MemoryUpload:
        return MemoryUpload(self)

    def resume_upload(self, upload_id: str) -> MemoryUpload | None:
        return None

    def open(self, digest: str) -> tuple[BinaryIO, int] | None:
        blob = self.blobs.get(digest)
        return None if blob is None else (io.BytesIO(blob), len(blob))

    def read_small(self, digest: str, limit: int) -> bytes | None:
        blob = self.blobs.get(digest)
        return None if blob is None or len(blob) > limit else blob

    def delete(self, digest: str) -> None:
        self.blobs.pop(digest, None)
        self.touched.pop(digest, None)

    def touch(self, digest: str) -> None:
        if digest in self.blobs:
            self.touched[digest] = time.time()

    def stored(self) -> Iterator[tuple[str, float, int]]:
        for digest, blob in list(self.blobs.items()):
            yield digest, self.touched.get(digest, 0.0), len(blob)

    def upload_ids(self) -> set[str]:
        return set()

    def drop_upload_file(self, upload_id: str) -> None:
        pass
