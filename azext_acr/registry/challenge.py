"""Parse ``WWW-Authenticate`` headers (RFC 7235) tolerantly.

Registries differ in small ways (spaces after commas, unquoted values, commas inside quoted
scopes), so this parser tokenises properly instead of splitting on commas the way az does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(,|$)')
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?:\s+|$)")


@dataclass
class Challenge:
    scheme: str  # lower-cased: "bearer", "basic", ...
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


def parse_challenges(header: str | None) -> list[Challenge]:
    """Return every challenge in the header; unparseable trailing text is ignored, never raised."""
    challenges: list[Challenge] = []
    if not header:
        return challenges
    pos = 0
    text = header
    while pos < len(text):
        while pos < len(text) and text[pos] in " ,":
            pos += 1
        match = _SCHEME_RE.match(text, pos)
        if not match:
            break
        current = Challenge(scheme=match.group(1).lower())
        pos = match.end()
        while pos < len(text):
            param = _PARAM_RE.match(text, pos)
            if not param:
                break
            value = param.group(2)
            if value is not None:
                value = re.sub(r"\\(.)", r"\1", value)
            else:
                value = param.group(3) or ""
            current.params.setdefault(param.group(1).lower(), value)
            pos = param.end()
        challenges.append(current)
        if pos < len(text) and not _SCHEME_RE.match(text, pos):
            pos += 1
    return challenges


def pick_challenge(header: str | None) -> Challenge | None:
    """The challenge a client should answer: Bearer if offered, else Basic, else the first."""
    challenges = parse_challenges(header)
    for wanted in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == wanted:
                return challenge
    return challenges[0] if challenges else None
