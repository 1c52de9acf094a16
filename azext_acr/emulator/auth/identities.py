"""Well-known development identities.

Fixed values, printed in the ready line, so documentation and scripts can cite them (as Azurite does
with `devstoreaccount1`). They protect nothing: the emulator only listens on loopback by default.
"""

from __future__ import annotations

import hmac

TENANT_ID = "dec0de00-0000-4000-8000-00000000ac00"
CLIENT_ID = "dec0de00-0000-4000-8000-00000000ac01"
CLIENT_SECRET = "acr-emulator-dev-client-secret"
CLIENT_OBJECT_ID = "dec0de00-0000-4000-8000-00000000ac02"
ADMIN_USERNAME = "acremulator"
ADMIN_PASSWORD = "acr-emulator-admin-password"
NULL_GUID = "00000000-0000-0000-0000-000000000000"
ANONYMOUS_SUBJECT = "acr_anon_pull"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def basic_subject(username: str, password: str) -> str | None:
    """The subject for direct Basic credentials (admin user or the dev service principal), else None."""
    if _same(username, ADMIN_USERNAME) and _same(password, ADMIN_PASSWORD):
        return ADMIN_USERNAME
    if _same(username, CLIENT_ID) and _same(password, CLIENT_SECRET):
        return CLIENT_ID
    return None
