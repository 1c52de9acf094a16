"""One small hierarchy for everything that can go wrong talking to a registry.

The CLI layer maps these to az-style messages and exit codes; nothing here knows about Knack.
"""

from __future__ import annotations


class RegistryError(Exception):
    """A failure the user should read as one line: what happened, and (optionally) what to do."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class NotFoundError(RegistryError):
    """The registry answered 404: show commands exit 3 on this, as az does."""


class AuthenticationError(RegistryError):
    """Credentials were missing or refused (401, or a failed token exchange)."""


class PermissionDeniedError(RegistryError):
    """Credentials were accepted but lack the role or scope for the operation (403)."""


class OperationNotAllowedError(RegistryError):
    """The registry refused the operation itself, e.g. a locked item (405)."""


class ConnectionFailure(RegistryError):
    """The registry could not be reached: DNS, refused connection, TLS or timeout."""


class ProtocolError(RegistryError):
    """The registry answered something that does not follow the protocol (bad JSON, bad Link)."""


class DigestMismatchError(RegistryError):
    """Content did not hash to the digest it was fetched or announced by."""


class InvalidReferenceError(RegistryError, ValueError):
    """A user-supplied registry name, repository, tag or digest does not follow the grammar."""
