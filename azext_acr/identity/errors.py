"""Errors of the identity chain."""

from __future__ import annotations


class IdentityUnavailable(Exception):
    """The source is not configured here (no env vars, no cache): the chain moves on quietly."""


class IdentityError(Exception):
    """The source is configured but failed (wrong secret, unreachable authority): the chain stops."""
