"""Image references: ``[registry/]repository[:tag][@digest]``, per the distribution grammar.

This module is the only place that knows the grammar, so every command parses and prints
references the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidReferenceError

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
SHA256_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST_RE = re.compile(
    r"^(?:localhost|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$"
)
MAX_NAME_LENGTH = 255


def is_valid_repository(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(REPOSITORY_RE.match(name))


def is_valid_tag(tag: str) -> bool:
    return bool(TAG_RE.match(tag))


def is_valid_digest(digest: str) -> bool:
    if digest.startswith("sha256:"):
        return bool(SHA256_RE.match(digest))
    return bool(DIGEST_RE.match(digest))


def _looks_like_host(component: str) -> bool:
    """Docker's rule: the first component is a registry if it has a dot or a port, or is localhost."""
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


@dataclass(frozen=True)
class Reference:
    """A parsed reference. ``registry`` may be empty when the caller supplies it separately."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def identifier(self) -> str:
        """What goes after /manifests/: the digest when known, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}" if self.registry else self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)


def parse_reference(text: str, *, require_registry: bool = True, tags_allowed_multi: bool = False
                    ) -> tuple[Reference, list[str]]:
    """Parse ``registry/repo[:tag[,tag2...]][@digest]``.

    Returns the reference and the list of tags (several only when ``tags_allowed_multi``, the
    ``oras push ref:t1,t2`` form).
    """
    original = text
    if not text or text != text.strip():
        raise InvalidReferenceError(f"Invalid reference '{original}': it is empty or has spaces.")
    for prefix in ("https://", "http://", "oci://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not is_valid_digest(digest):
            raise InvalidReferenceError(f"Invalid reference '{original}': '{digest}' is not a valid digest.")
    registry = ""
    first, sep, rest = text.partition("/")
    if sep and _looks_like_host(first):
        if not _HOST_RE.match(first):
            raise InvalidReferenceError(f"Invalid reference '{original}': '{first}' is not a valid registry.")
        registry, text = first, rest
    elif require_registry:
        raise InvalidReferenceError(
            f"Invalid reference '{original}': expected <registry>/<repository>[:tag|@digest], "
            "for example myregistry.azurecr.io/hello-world:latest.")
    tags: list[str] = []
    last_slash = text.rfind("/")
    colon = text.find(":", last_slash + 1)
    if colon != -1:
        text, tag_text = text[:colon], text[colon + 1:]
        tags = tag_text.split(",") if tags_allowed_multi else [tag_text]
        for tag in tags:
            if not is_valid_tag(tag):
                raise InvalidReferenceError(f"Invalid reference '{original}': '{tag}' is not a valid tag.")
    if not is_valid_repository(text):
        raise InvalidReferenceError(
            f"Invalid reference '{original}': repository '{text}' must be lowercase letters, digits "
            "and separators (. _ __ -), with '/' between components.")
    return Reference(registry, text, tags[0] if tags else None, digest), tags


def parse_image_name(image: str, *, allow_digest: bool = True, default_latest: bool = True
                     ) -> tuple[str, str | None, str | None]:
    """az's ``--image`` parser: ``repo``, ``repo:tag`` or ``repo@digest`` → (repo, tag, digest).

    Follows az 2.91 (a bare repository means ``:latest``), but also validates the pieces so a bad
    name fails here with a clear message instead of as an odd 404.
    """
    repo, tag, digest = image, None, None
    if allow_digest and "@" in image:
        parts = image.split("@")
        if len(parts) != 2:
            raise InvalidReferenceError(_image_usage(allow_digest))
        repo, digest = parts
        if not is_valid_digest(digest):
            raise InvalidReferenceError(f"'{digest}' is not a valid digest (expected sha256:<64 hex digits>).")
    elif ":" in image:
        parts = image.split(":")
        if len(parts) != 2 or "@" in image:
            raise InvalidReferenceError(_image_usage(allow_digest))
        repo, tag = parts
        if not is_valid_tag(tag):
            raise InvalidReferenceError(f"'{tag}' is not a valid tag.")
    elif "@" in image:
        raise InvalidReferenceError(_image_usage(allow_digest))
    elif default_latest:
        tag = "latest"
    if not is_valid_repository(repo):
        raise InvalidReferenceError(
            f"'{repo}' is not a valid repository name: use lowercase letters, digits and separators "
            "(. _ __ -), with '/' between components.")
    return repo, tag, digest


def _image_usage(allow_digest: bool) -> str:
    if allow_digest:
        return "The name of the image may include a tag in the format 'name:tag' or digest in the format 'name@digest'."
    return "The name of the image may include a tag in the format 'name:tag'."
