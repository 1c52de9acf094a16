"""Docker/ACR scopes: parsing, normalising action spellings, granting and checking access.

An access entry is `{"type", "name", "actions"}`. Clients send scopes as one field, space-joined, or
repeated; names may contain a `:` (host:port), so a resource scope is parsed from the right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REPOSITORY_ACTIONS = ("pull", "push", "delete", "metadata_read", "metadata_write", "deleted_read", "deleted_restore")
_SPELLINGS = {
    "metadataread": "metadata_read",
    "metadatawrite": "metadata_write",
    "metadata_read": "metadata_read",
    "metadata_write": "metadata_write",
    "deletedread": "deleted_read",
    "deletedrestore": "deleted_restore",
}


def normalise_action(action: str) -> str:
    action = action.strip()
    return _SPELLINGS.get(action.lower(), action)


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]

    def to_access(self) -> dict:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """All resource scopes in the given fields; malformed ones are ignored, as a token server may."""
    scopes: list[Scope] = []
    for value in values:
        for item in value.split():
            type_, sep, rest = item.partition(":")
            name, sep2, actions = rest.rpartition(":")
            if not (sep and sep2 and type_ and name):
                continue
            normalised = tuple(dict.fromkeys(normalise_action(a) for a in actions.split(",") if a.strip()))
            scopes.append(Scope(type_, name, normalised))
    return scopes


class Policy:
    """What a principal may be granted. `None` actions means everything."""

    def allowed(self, type_: str, name: str) -> set[str] | None:
        raise NotImplementedError


class AllowAll(Policy):
    def allowed(self, type_: str, name: str) -> set[str] | None:
        return None


class AllowNothing(Policy):
    def allowed(self, type_: str, name: str) -> set[str] | None:
        return set()


class AnonymousPull(Policy):
    """ACR's anonymous pull: read content and metadata of every repository, list the catalog."""

    def allowed(self, type_: str, name: str) -> set[str] | None:
        if type_ == "repository":
            return {"pull", "metadata_read"}
        if type_ == "registry" and name == "catalog":
            return {"*"}
        return set()


class FromAccess(Policy):
    """Whatever an existing access token carries (the null-GUID user with an access token as password)."""

    def __init__(self, access: list[dict]):
        self.access = access

    def allowed(self, type_: str, name: str) -> set[str] | None:
        actions: set[str] = set()
        for entry in self.access:
            if entry.get("type") == type_ and entry.get("name") == name:
                actions.update(normalise_action(a) for a in entry.get("actions", []))
        return actions


def grant(requested: list[Scope], policy: Policy) -> list[dict]:
    """The intersection of what was asked for and what the policy allows; partial grants are fine."""
    merged: dict[tuple[str, str], list[str]] = {}
    for scope in requested:
        allowed = policy.allowed(scope.type, scope.name)
        if allowed is None or "*" in allowed:
            actions = list(scope.actions)
        elif "*" in scope.actions:
            actions = sorted(allowed)
        else:
            actions = [a for a in scope.actions if a in allowed]
        bucket = merged.setdefault((scope.type, scope.name), [])
        bucket.extend(a for a in actions if a not in bucket)
    return [{"type": t, "name": n, "actions": a} for (t, n), a in merged.items() if a]


def permits(access: list[dict] | None, type_: str, name: str, needed: Iterable[str]) -> bool:
    """Whether `access` (None = unrestricted) covers every needed action on one resource."""
    if access is None:
        return True
    have: set[str] = set()
    for entry in access:
        if entry.get("type") == type_ and entry.get("name") == name:
            have.update(normalise_action(a) for a in entry.get("actions", []))
    if "*" in have:
        return True
    return all(normalise_action(a) in have for a in needed)
