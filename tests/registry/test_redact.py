"""Secrets never reach logs: the redaction used by --debug and every log handler."""

from azext_acr.registry.redact import redact

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def test_redact_removes_tokens_passwords_and_authorization_headers():
    samples = [
        f"headers={{'Authorization': 'Bearer {JWT}'}}",
        "{'Authorization': 'Basic dXNlcjpwYXNz'}",
        "grant_type=password&username=u&password=hunter2&scope=x",
        f"refresh_token={JWT}&service=r",
        '{"auth": "dXNlcjpwYXNz", "identitytoken": "opaque-token-value"}',
        "client_secret=s3cr3t-value",
    ]
    for text in samples:
        cleaned = redact(text)
        for secret in (JWT, "dXNlcjpwYXNz", "hunter2", "opaque-token-value", "s3cr3t-value"):
            assert secret not in cleaned, (text, cleaned)
