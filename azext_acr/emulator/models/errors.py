"""Registry errors that know their wire code and HTTP status.

Models raise these; one place in the HTTP layer renders them as the OCI/ACR error body
`{"errors":[{"code":..,"message":..,"detail":..}]}`, so rules never need to know about HTTP.
"""

from __future__ import annotations

from typing import Any

_UNSET = object()


class RegistryError(Exception):
    """An error with an OCI/ACR `code`, an HTTP `status` and an optional `detail`."""

    code = "UNKNOWN"
    status = 500
    message = "unknown error"

    def __init__(self, message: str | None = None, detail: Any = _UNSET, headers: dict[str, str] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.detail = detail
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not _UNSET:
            entry["detail"] = self.detail
        return entry


def _error(name: str, code: str, status: int, message: str) -> type[RegistryError]:
    return type(name, (RegistryError,), {"code": code, "status": status, "message": message})


BlobUnknown = _error("BlobUnknown", "BLOB_UNKNOWN", 404, "blob unknown to registry")
BlobUploadUnknown = _error("BlobUploadUnknown", "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
BlobUploadInvalid = _error("BlobUploadInvalid", "BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
RangeInvalid = _error("RangeInvalid", "BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable")
DigestInvalid = _error("DigestInvalid", "DIGEST_INVALID", 400, "provided digest did not match uploaded content")
ManifestBlobUnknown = _error("ManifestBlobUnknown", "MANIFEST_BLOB_UNKNOWN", 400, "blob unknown to registry")
ManifestInvalid = _error("ManifestInvalid", "MANIFEST_INVALID", 400, "manifest invalid")
ManifestUnknown = _error("ManifestUnknown", "MANIFEST_UNKNOWN", 404, "manifest unknown")
ManifestTooLarge = _error("ManifestTooLarge", "SIZE_INVALID", 413, "manifest exceeds the 4 MiB limit")
NameInvalid = _error("NameInvalid", "NAME_INVALID", 400, "invalid repository name")
TagInvalid = _error("TagInvalid", "TAG_INVALID", 400, "invalid tag")
PaginationInvalid = _error("PaginationInvalid", "PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested")
TagUnknown = _error("TagUnknown", "TAG_UNKNOWN", 404, "the specified tag does not exist")
BadRequest = _error("BadRequest", "UNSUPPORTED", 400, "the request is invalid")
Unsupported = _error("Unsupported", "UNSUPPORTED", 405, "The operation is unsupported.")
Denied = _error("Denied", "DENIED", 403, "requested access to the resource is denied")
DisallowedOperation = _error(
    "DisallowedOperation",
    "REGISTRY_DISALLOWED_OPERATION",
    405,
    "The operation is disallowed on this registry, repository or image. View troubleshooting steps at "
    "https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation",
)


class NameUnknown(RegistryError):
    """ACR puts the repository name in `detail`; clients show it."""

    code = "NAME_UNKNOWN"
    status = 404
    message = "repository name not known to registry"

    def __init__(self, name: str):
        super().__init__(detail={"name": name})


class Unauthorized(RegistryError):
    """Authentication required or insufficient; the HTTP layer adds the challenge header."""

    code = "UNAUTHORIZED"
    status = 401
    message = "authentication required, visit https://aka.ms/acr/authorization for more information."
