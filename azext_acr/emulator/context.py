"""What every handler needs: the registry model, the token services and the run settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .auth.aad import AadIssuer
from .auth.tokens import TokenService
from .models.registry import Registry


@dataclass
class Settings:
    anonymous_pull: bool = False
    access_token_ttl: int = 75 * 60
    refresh_token_ttl: int = 3 * 60 * 60
    # login servers (host:port) a registry token may name as its audience besides the request's Host
    service_aliases: set[str] = field(default_factory=set)
    # seconds to wait for more of a request body before giving up on it (a client that announced
    # Content-Length but stopped sending would otherwise hold its request open for ever)
    body_timeout: float = 60.0


@dataclass
class Context:
    registry: Registry
    tokens: TokenService
    aad: AadIssuer
    settings: Settings


CONTEXT = web.AppKey("context", Context)
# set per request when several registries are served: the one the Host header names
REQUEST_CONTEXT = "acr_emulator.context"


def context_of(request: web.Request) -> Context:
    return request.get(REQUEST_CONTEXT) or request.app[CONTEXT]
