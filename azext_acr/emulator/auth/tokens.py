"""ACR refresh and access tokens: RS256 JWTs shaped like the ones real ACR issues."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .keys import key_id

ISSUER = "Azure Container Registry"
LEEWAY = 0  # one process signs and verifies: no clock skew to allow for


class InvalidToken(Exception):
    """Signature, algorithm, issuer, audience, expiry or kind did not check out."""


class TokenService:
    def __init__(self, key: rsa.RSAPrivateKey, access_ttl: int, refresh_ttl: int):
        self.key = key
        self.public_key = key.public_key()
        self.kid = key_id(key)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def _base(self, subject: str, service: str, ttl: int) -> dict:
        issued = int(time.time())
        return {
            "jti": str(uuid.uuid4()),
            "sub": subject,
            "nbf": issued,
            "exp": issued + ttl,
            "iat": issued,
            "iss": ISSUER,
            "aud": service,
            "version": "1.0",
        }

    def refresh_token(self, subject: str, service: str, tenant: str | None) -> str:
        """A refresh token whose payload segment holds no `-` or `_`.

        The azure-containerregistry SDK decodes this segment with *standard* base64 to read `exp`,
        which fails on the URL-safe characters; re-rolling the `jti` changes the encoding until clean.
        """
        claims = self._base(subject, service, self.refresh_ttl)
        claims.update(grant_type="refresh_token", permissions={"actions": ["*"], "notActions": []}, roles=[])
        if tenant:
            claims["tenant"] = tenant
        for _ in range(1000):
            token = self._sign(claims)
            payload = token.split(".")[1]
            if "-" not in payload and "_" not in payload:
                return token
            claims["jti"] = str(uuid.uuid4())
        raise RuntimeError("could not mint a refresh token with a standard-base64-safe payload")

    def access_token(self, subject: str, service: str, access: list[dict]) -> str:
        claims = self._base(subject, service, self.access_ttl)
        claims.update(grant_type="access_token", access=access, roles=[])
        return self._sign(claims)

    def verify(self, token: str, kind: str, audiences: set[str] | None = None) -> dict:
        """Claims of a token this emulator signed; `kind` is "access_token" or "refresh_token"."""
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                issuer=ISSUER,
                options={"verify_aud": False, "require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=LEEWAY,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("grant_type") != kind:
            raise InvalidToken(f"not an {kind}")
        if audiences is not None and claims.get("aud") not in audiences:
            raise InvalidToken("token was issued for another registry")
        return claims
