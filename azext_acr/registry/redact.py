"""Remove secrets from text before it reaches a log line, an error message or --debug output."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # JWTs (AAD and ACR tokens alike).
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "<redacted-token>"),
    # Authorization headers, in dict reprs and in raw header text.
    (re.compile(r"(?i)(['\"]?(?:authorization|x-identity-header|x-ms-authorization-auxiliary)['\"]?\s*[:=]\s*['\"]?)"
                r"(?:bearer|basic)?\s*[^'\"\s,}]+"), r"\1<redacted>"),
    # Form fields and JSON keys that carry secrets.
    (re.compile(r"(?i)((?:password|client_secret|refresh_token|access_token|identitytoken|identity_token|"
                r"client_assertion|secret|auth)['\"]?\s*[=:]\s*['\"]?)[^&'\"\s,}]+"), r"\1<redacted>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites every record's message so no handler ever formats a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken log call must not take the command down
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of the root logger (and the given logger)."""
    targets = [logging.getLogger()] + ([logger] if logger else [])
    for target in targets:
        for handler in target.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
