"""The OCI name, tag and digest grammar.

Every repository name, tag and digest that reaches storage passes through here first. The grammar
admits no `.`/`..` path components and no `/` outside the name, so file paths built from these values
can never escape the data directory.
"""

from __future__ import annotations

import re

from .errors import DigestInvalid, NameInvalid, TagInvalid

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
MAX_NAME_LENGTH = 255


def is_digest(reference: str) -> bool:
    return bool(DIGEST_RE.match(reference))


def check_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH or not NAME_RE.match(name):
        raise NameInvalid(detail={"name": name})
    return name


def check_tag(tag: str) -> str:
    if not TAG_RE.match(tag):
        raise TagInvalid(detail={"tag": tag})
    return tag


def check_digest(digest: str) -> str:
    """Only sha256 is supported: it is what every client in scope sends."""
    if not DIGEST_RE.match(digest):
        raise DigestInvalid("invalid digest", detail={"digest": digest})
    return digest


def check_reference(reference: str) -> str:
    """A manifest reference is a digest or a tag."""
    if ":" in reference:
        return check_digest(reference)
    return check_tag(reference)
