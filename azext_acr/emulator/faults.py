"""Fault injection for clients' tests: throttling/unavailable answers and added latency.

A faulted request is answered before its handler runs and before its body is read, so it changes
nothing: a client that retries it sees exactly the state it would have seen without the fault.
Faults hit the data plane (`/v2`, `/acr/v1`); the token service and the local AAD only with
`--fault-auth`; `/health` never.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from aiohttp import web

from .models.errors import RegistryError

DATA_PREFIXES = ("/v2", "/acr/")
HEALTH = "/health"


class TooManyRequests(RegistryError):
    code = "TOOMANYREQUESTS"
    status = 429
    message = "too many requests (injected fault)"


class Unavailable(RegistryError):
    code = "UNAVAILABLE"
    status = 503
    message = "service unavailable (injected fault)"


@dataclass
class FaultPlan:
    rate: float = 0.0
    status: int = 503
    retry_after: int = 1
    latency_ms: int = 0
    include_auth: bool = False
    seed: int | None = None
    methods: frozenset[str] | None = None  # None: every method

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("the fault rate must be between 0 and 1")
        if self.status not in (429, 503):
            raise ValueError("the fault status must be 429 or 503")
        self._random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return self.rate > 0 or self.latency_ms > 0

    def applies_to(self, path: str) -> bool:
        """Whether latency and faults apply to this path at all."""
        if path == HEALTH:
            return False
        return path.startswith(DATA_PREFIXES) or self.include_auth

    def draw(self, method: str) -> RegistryError | None:
        """The error to answer with, or None to serve the request normally."""
        if self.methods is not None and method not in self.methods:
            return None
        if self.rate <= 0 or self._random.random() >= self.rate:
            return None
        error = TooManyRequests if self.status == 429 else Unavailable
        return error(detail=None, headers={"Retry-After": str(self.retry_after)})


def middleware(plan: FaultPlan):
    @web.middleware
    async def inject_faults(request: web.Request, handler):
        if not plan.applies_to(request.path):
            return await handler(request)
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        fault = plan.draw(request.method)
        if fault is not None:
            request["fault"] = True
            raise fault
        return await handler(request)

    return inject_faults
