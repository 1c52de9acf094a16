"""Several registries on one emulator, chosen by the request's Host header; their storage, reset and GC.

The default registry answers every host name that is not configured with `--registry-host` (localhost,
127.0.0.1, ::1, ...) and keeps its data at the top of the data directory, as before. Each
`--registry-host NAME` gets its own SQLite database and blob store under `registries/NAME/`, and its own
token audience (`NAME:PORT`): a token issued for one registry is refused by another, as on ACR.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from aiohttp import web

from .context import REQUEST_CONTEXT, Context
from .models.registry import DEFAULT_GC_GRACE, GcReport, Registry
from .storage.blobs import DiskBlobStore, MemoryBlobStore
from .storage.metadata import MetadataStore

log = logging.getLogger("acr-emulator")

_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# what --reset removes: registry state, never the keys or the TLS CA (clients keep trusting it)
STATE_ENTRIES = ("registry.db", "registry.db-wal", "registry.db-shm", "blobs", "uploads", "registries")


def check_host_name(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if not _HOST_RE.match(name) or len(name) > 253:
        raise ValueError(f"not a host name: {name!r}")
    return name


def host_without_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


@dataclass
class Hosted:
    """One registry this process serves."""

    name: str | None  # None for the default registry
    registry: Registry
    meta: MetadataStore

    def close(self) -> None:
        self.meta.close()


def open_hosted(name: str | None, data_dir: Path | None) -> Hosted:
    if data_dir is None:
        meta = MetadataStore(None)
        registry = Registry(meta, MemoryBlobStore())
    else:
        root = data_dir if name is None else data_dir / "registries" / name
        root.mkdir(parents=True, exist_ok=True)
        meta = MetadataStore(root / "registry.db")
        registry = Registry(meta, DiskBlobStore(root))
        registry.restore_uploads()
    return Hosted(name, registry, meta)


def reset(data_dir: Path) -> None:
    """Wipe the registry state of a data directory (repositories, blobs, uploads, extra registries)."""
    for entry in STATE_ENTRIES:
        path = data_dir / entry
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def stored_registry_names(data_dir: Path) -> list[str]:
    root = data_dir / "registries"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def collect_garbage(hosted: list[Hosted], grace: float = DEFAULT_GC_GRACE) -> dict[str, GcReport]:
    return {h.name or "": h.registry.collect_garbage(grace) for h in hosted}


async def gc_loop(hosted: list[Hosted], interval: float, grace: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            collect_garbage(hosted, grace)
        except Exception:  # a failed round must not stop the next one
            log.exception("garbage collection failed")


def contexts_by_host(base: Context, hosted: list[Hosted], port: int) -> dict[str | None, Context]:
    """One Context per registry; a named registry only accepts tokens issued for its own name."""
    contexts: dict[str | None, Context] = {}
    for h in hosted:
        if h.name is None:
            contexts[None] = replace(base, registry=h.registry)
        else:
            aliases = {h.name, f"{h.name}:{port}"}
            contexts[h.name] = replace(
                base, registry=h.registry, settings=replace(base.settings, service_aliases=aliases)
            )
    return contexts


def selector(contexts: dict[str | None, Context]):
    """Middleware: the request's registry, from its Host header (unknown names get the default one)."""

    @web.middleware
    async def select_registry(request: web.Request, handler):
        if len(contexts) > 1:
            chosen = contexts.get(host_without_port(request.host))
            if chosen is not None:
                request[REQUEST_CONTEXT] = chosen
        return await handler(request)

    return select_registry
