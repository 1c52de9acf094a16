"""Plain records the metadata store returns and the routes render."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime


def now() -> str:
    """ACR's timestamp shape: ISO-8601 UTC, 7 fractional digits, `Z`. Also sorts lexically by time."""
    moment = datetime.now(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


@dataclass(frozen=True)
class Attributes:
    """ACR's changeable attributes; a False at any level (repository, manifest, tag) wins."""

    deleteEnabled: bool = True  # noqa: N815 - wire names
    writeEnabled: bool = True  # noqa: N815
    readEnabled: bool = True  # noqa: N815
    listEnabled: bool = True  # noqa: N815

    def to_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def updated(self, changes: dict) -> Attributes:
        known = {f.name for f in fields(self)}
        return replace(self, **{k: bool(v) for k, v in changes.items() if k in known and v is not None})


@dataclass
class Repository:
    name: str
    created: str
    updated: str
    attributes: Attributes = field(default_factory=Attributes)


@dataclass
class Manifest:
    repo: str
    digest: str
    media_type: str
    body: bytes
    image_size: int
    created: str
    updated: str
    subject: str | None = None
    artifact_type: str | None = None
    architecture: str | None = None
    os: str | None = None
    references: list[dict] = field(default_factory=list)
    annotations: dict | None = None
    attributes: Attributes = field(default_factory=Attributes)


@dataclass
class Tag:
    repo: str
    name: str
    digest: str
    created: str
    updated: str
    attributes: Attributes = field(default_factory=Attributes)
