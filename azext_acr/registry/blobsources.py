"""Where this machine last saw each blob: the source for a cross-repository mount.

digest → repository, per registry, kept in ``blob-sources.json`` in acr's config directory (docker
keeps the same kind of cache). A push asks the registry to mount a blob from that repository instead
of uploading it again. It is a cache: a failure to read or write it never fails a transfer.
"""

from __future__ import annotations

import json
import logging
import threading

from ..atomicfile import write_atomic
from ..configdir import config_dir

logger = logging.getLogger(__name__)


class BlobSources:
    LIMIT = 5000  # per registry; the oldest entries go first

    def __init__(self, login_server: str):
        self._path = config_dir() / "blob-sources.json"
        self._server = login_server
        self._lock = threading.Lock()
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            self._all = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            self._all = {}
        seen = self._all.get(login_server)
        self._seen: dict[str, str] = seen if isinstance(seen, dict) else {}
        self._changed = False

    def source_of(self, digest: str, repository: str) -> str | None:
        """The other repository this blob was seen in, if any."""
        source = self._seen.get(digest)
        return source if isinstance(source, str) and source != repository else None

    def record(self, digest: str, repository: str) -> None:
        with self._lock:
            self._seen.pop(digest, None)
            self._seen[digest] = repository
            self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        while len(self._seen) > self.LIMIT:
            self._seen.pop(next(iter(self._seen)))
        self._all[self._server] = self._seen
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self._path, json.dumps(self._all).encode("utf-8"))
        except OSError as err:
            logger.debug("Could not save the blob source cache: %s", err)
