"""Content-addressed blob storage.

A blob only becomes visible under its digest after the bytes written were hashed while streaming and
the hash matched: uploads go to a temporary file, which is fsynced and atomically renamed into
`blobs/sha256/<first two hex>/<hex>`. Nothing is ever read whole into memory on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

READ_CHUNK = 1 << 20


class Upload(Protocol):
    """Bytes of one upload session, hashed as they arrive."""

    size: int

    def write(self, chunk: bytes) -> None: ...

    def digest(self) -> str: ...

    async def commit(self) -> str:
        """Make the bytes visible under their digest and return it."""

    async def discard(self) -> None: ...


class BlobStore(Protocol):
    def size(self, digest: str) -> int | None: ...

    def new_upload(self, upload_id: str) -> Upload: ...

    def read_stream(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of a blob, in chunks."""

    def read_small(self, digest: str, limit: int) -> bytes | None: ...

    def delete(self, digest: str) -> None: ...


def _hex(digest: str) -> str:
    # Digests are validated against `sha256:[a-f0-9]{64}` before they get here; assert it anyway,
    # since this string becomes a file name.
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return hexpart


class DiskUpload:
    def __init__(self, store: DiskBlobStore, path: Path):
        self._store = store
        self._path = path
        self._file = open(path, "wb")  # noqa: SIM115 - lives as long as the upload session
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

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
            else:
                os.replace(self._path, final)
                _fsync_dir(final.parent)

        await asyncio.to_thread(finish)
        return digest

    async def discard(self) -> None:
        def drop() -> None:
            self._file.close()
            self._path.unlink(missing_ok=True)

        await asyncio.to_thread(drop)


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
        # Upload sessions live in memory, so their partial files cannot be resumed after a restart.
        shutil.rmtree(self.uploads, ignore_errors=True)
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
        if not upload_id.replace("-", "").isalnum():
            raise ValueError("bad upload id")
        return DiskUpload(self, self.uploads / upload_id)

    async def read_stream(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        with open(self.path_for(digest), "rb") as f:
            f.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(f.read, min(READ_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    def read_small(self, digest: str, limit: int) -> bytes | None:
        size = self.size(digest)
        if size is None or size > limit:
            return None
        return self.path_for(digest).read_bytes()

    def delete(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)


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

    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    async def commit(self) -> str:
        digest = self.digest()
        self._store.blobs.setdefault(digest, self._buffer.getvalue())
        self._buffer = io.BytesIO()
        return digest

    async def discard(self) -> None:
        self._buffer = io.BytesIO()


class MemoryBlobStore:
    """For `--in-memory`: blobs live in a dict and vanish with the process."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def size(self, digest: str) -> int | None:
        blob = self.blobs.get(digest)
        return None if blob is None else len(blob)

    def new_upload(self, upload_id: str) -> MemoryUpload:
        return MemoryUpload(self)

    async def read_stream(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        blob = self.blobs[digest]
        for offset in range(start, end + 1, READ_CHUNK):
            yield blob[offset : min(offset + READ_CHUNK, end + 1)]

    def read_small(self, digest: str, limit: int) -> bytes | None:
        blob = self.blobs.get(digest)
        return None if blob is None or len(blob) > limit else blob

    def delete(self, digest: str) -> None:
        self.blobs.pop(digest, None)
