"""Small helpers every command module shares: opening a registry, reading a password from stdin."""

from __future__ import annotations

import sys

from knack.util import CLIError


def read_password_stdin(password: str | None, password_stdin: bool) -> str | None:
    if not password_stdin:
        return password
    if password is not None:
        raise CLIError("--password and --password-stdin are mutually exclusive.")
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CLIError("--password-stdin was given but standard input was empty.")
    return value


def open_registry(registry_name: str, username: str | None = None, password: str | None = None,
                  suffix: str | None = None):
    """The library's open_registry (its keychain checks -u/-p before any request is sent)."""
    from ..registry import open_registry as _open

    return _open(registry_name, username, password, suffix)


def confirm(message: str, yes: bool) -> None:
    """az's user_confirmation: skip with --yes, ask on a TTY, refuse without one."""
    if yes:
        return
    from knack.prompting import NoTTYException, prompt_y_n

    try:
        if not prompt_y_n(message):
            raise CLIError("Operation cancelled.")
    except NoTTYException:
        raise CLIError("Unable to prompt for confirmation as no tty available. Use --yes.") from None
