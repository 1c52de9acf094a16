"""Reading what a manifest refers to: blobs, child manifests, subject, platform.

The registry stores the exact bytes it was given; this module only extracts the facts the rules and
the `/acr/v1` views need, without ever rewriting the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import ManifestInvalid
from .names import DIGEST_RE

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json"
ORAS_ARTIFACT = "application/vnd.cncf.oras.artifact.manifest.v1+json"
INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
IMAGE_CONFIG_TYPES = {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
_GENERIC_TYPES = {"", "application/octet-stream", "application/json", "text/plain"}


@dataclass
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict | None = None


@dataclass
class ParsedManifest:
    media_type: str
    config: Descriptor | None = None
    blobs: list[Descriptor] = field(default_factory=list)
    children: list[Descriptor] = field(default_factory=list)
    subject: str | None = None
    artifact_type: str | None = None
    annotations: dict | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _descriptor(raw: object) -> Descriptor:
    if not isinstance(raw, dict):
        raise ManifestInvalid("manifest invalid: descriptor is not an object")
    digest = raw.get("digest")
    size = raw.get("size", 0)
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise ManifestInvalid("manifest invalid: unsupported or malformed descriptor digest", detail={"digest": digest})
    if not isinstance(size, int) or size < 0:
        raise ManifestInvalid("manifest invalid: bad descriptor size")
    platform = raw.get("platform") if isinstance(raw.get("platform"), dict) else None
    return Descriptor(str(raw.get("mediaType", "")), digest, size, platform)


def parse(body: bytes, content_type: str | None) -> ParsedManifest:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestInvalid("manifest invalid: body is not JSON") from exc
    if not isinstance(doc, dict):
        raise ManifestInvalid("manifest invalid: body is not a JSON object")

    header_type = (content_type or "").split(";")[0].strip().lower()
    body_type = doc.get("mediaType") if isinstance(doc.get("mediaType"), str) else ""
    if header_type not in _GENERIC_TYPES:
        media_type = header_type
    elif body_type:
        media_type = body_type
    else:
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST

    parsed = ParsedManifest(media_type=media_type)
    if isinstance(doc.get("annotations"), dict):
        parsed.annotations = doc["annotations"]
    if isinstance(doc.get("artifactType"), str):
        parsed.artifact_type = doc["artifactType"]
    if "subject" in doc and doc["subject"] is not None:
        parsed.subject = _descriptor(doc["subject"]).digest

    if "manifests" in doc:
        if not isinstance(doc["manifests"], list):
            raise ManifestInvalid("manifest invalid: manifests is not a list")
        parsed.children = [_descriptor(d) for d in doc["manifests"]]
        return parsed
    if "config" in doc and doc["config"] is not None:
        parsed.config = _descriptor(doc["config"])
        parsed.blobs.append(parsed.config)
        if parsed.artifact_type is None:
            parsed.artifact_type = parsed.config.media_type or None
    for key in ("layers", "blobs"):
        if key in doc and doc[key] is not None:
            if not isinstance(doc[key], list):
                raise ManifestInvalid(f"manifest invalid: {key} is not a list")
            parsed.blobs.extend(_descriptor(d) for d in doc[key])
    return parsed


def platform_of_config(config: bytes | None) -> tuple[str | None, str | None]:
    """Architecture and OS from an image config, which is where an image records them."""
    if not config:
        return None, None
    try:
        doc = json.loads(config)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    arch, os_ = doc.get("architecture"), doc.get("os")
    return (arch if isinstance(arch, str) else None), (os_ if isinstance(os_, str) else None)
