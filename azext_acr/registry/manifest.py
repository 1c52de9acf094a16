"""Reading manifests defensively: a registry's JSON is input like any other.

``file_layers`` returns the descriptors a pull may write, after checking the document is an
image or artifact manifest whose layers are well-formed descriptors; anything else is a
ProtocolError naming what is wrong, never a silent empty pull or a crash deep in a command.
"""

from __future__ import annotations

import json

from .errors import ProtocolError
from .reference import is_valid_digest

TITLE = "org.opencontainers.image.title"


def parse_manifest(content: bytes, what: str) -> dict:
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(f"The manifest of {what} is not valid JSON.") from None
    if not isinstance(document, dict):
        raise ProtocolError(f"The manifest of {what} is not a JSON object.")
    return document


def layer_descriptors(document: dict, what: str) -> list[dict]:
    """The ``layers`` (image manifest) or ``blobs`` (ORAS artifact manifest) of a manifest, checked."""
    layers = document.get("layers", document.get("blobs"))
    if not isinstance(layers, list):
        raise ProtocolError(f"The manifest of {what} has no list of layers; it is not an image or artifact manifest.")
    for layer in layers:
        if not isinstance(layer, dict):
            raise ProtocolError(f"The manifest of {what} has a layer that is not a descriptor.")
        digest, size = layer.get("digest"), layer.get("size")
        if not isinstance(digest, str) or not is_valid_digest(digest):
            raise ProtocolError(f"The manifest of {what} has a layer with an invalid digest: {str(digest)[:80]!r}.")
        if not isinstance(size, int) or size < 0:
            raise ProtocolError(f"The manifest of {what} has a layer with an invalid size.")
        annotations = layer.get("annotations")
        if annotations is not None and not isinstance(annotations, dict):
            raise ProtocolError(f"The manifest of {what} has a layer whose annotations are not an object.")
    return layers
