"""The ``docker-credential-<name>`` protocol, spoken directly so that no Docker install is needed.

A helper is a separate program taking one action word as its argument:

* ``store``: stdin ``{"ServerURL", "Username", "Secret"}`` (JSON);
* ``get``: stdin the server URL; stdout ``{"ServerURL", "Username", "Secret"}``;
* ``erase``: stdin the server URL;
* ``list``: stdout ``{"<server>": "<username>", ...}``.

Helpers signal a missing entry by printing ``credentials not found in native keychain`` and exiting
non-zero; that is not an error for us. Everything else that goes wrong becomes a one-line
:class:`DockerConfigError` which never contains the secret we sent, because helper messages end up on
terminals and in CI logs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from .errors import DockerConfigError, HelperNotFoundError

#: How long one helper call may take. Keychain helpers can block on a GUI unlock prompt; a bounded wait
#: turns a hang into an error the user can act on. Module-level so tests (and callers) can change it.
HELPER_TIMEOUT = 30.0

#: The exact text the docker-credential-helpers library prints when an entry does not exist.
NOT_FOUND_MESSAGE = "credentials not found in native keychain"

#: Docker's convention: a stored Username of ``<token>`` means the Secret is an identity (refresh) token.
TOKEN_USERNAME = "<token>"

_HELPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class HelperCredentials:
    """What a helper's ``get`` answered, in the helper's own terms (Username/Secret)."""

    server_url: str
    username: str
    secret: str

    def __repr__(self) -> str:
        return f"HelperCredentials(server_url={self.server_url!r}, username={self.username!r}, secret=***)"


def helper_program(name: str) -> str:
    """The program name for helper ``name``; rejects names that could escape the PATH lookup.

    The name comes from a config file that other tools also write, so a value such as ``../../bin/sh``
    must not become an arbitrary program to execute.
    """
    if not isinstance(name, str) or not _HELPER_NAME.match(name):
        raise DockerConfigError(
            f"Invalid Docker credential helper name {name!r}: use a plain name such as 'desktop' "
            "or 'pass' (the program is docker-credential-<name>)."
        )
    return f"docker-credential-{name}"


def _one_line(text: str, secrets: tuple[str | None, ...]) -> str:
    """First non-empty line of a helper's output, with any secret we sent blanked out and length capped."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 3] + "..."
    return ""


def _is_not_found(stdout: str, stderr: str) -> bool:
    return NOT_FOUND_MESSAGE in stdout or NOT_FOUND_MESSAGE in stderr


def _run(name: str, action: str, stdin: str) -> subprocess.CompletedProcess[str]:
    """Run ``docker-credential-<name> <action>`` and return the finished process (any exit code).

    Raises :class:`HelperNotFoundError` when the program is missing and :class:`DockerConfigError` on
    a timeout or when the program cannot be started.
    """
    program = helper_program(name)
    executable = shutil.which(program)
    if executable is None:
        raise HelperNotFoundError(program)
    try:
        return subprocess.run(
            [executable, action],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=HELPER_TIMEOUT,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        raise DockerConfigError(
            f"Docker credential helper '{program} {action}' did not answer within {HELPER_TIMEOUT:g} s: "
            "unlock your keychain or check the helper, then try again."
        ) from None
    except OSError as exc:
        raise DockerConfigError(
            f"Docker credential helper '{executable}' could not be started ({exc.strerror or exc}): "
            "check that it is an executable program."
        ) from None


def _failure(
    name: str, action: str, proc: subprocess.CompletedProcess[str], secrets: tuple[str | None, ...]
) -> DockerConfigError:
    program = helper_program(name)
    detail = _one_line(proc.stderr, secrets) or _one_line(proc.stdout, secrets)
    if detail.startswith("{"):
        detail = ""  # looks like a credentials answer; never echo it
    detail = f": {detail}" if detail else ""
    return DockerConfigError(
        f"Docker credential helper '{program} {action}' failed (exit code {proc.returncode}){detail}"
    )


def helper_store(name: str, server_url: str, username: str, secret: str) -> None:
    """Store ``username``/``secret`` for ``server_url`` in helper ``name``."""
    payload = json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret})
    proc = _run(name, "store", payload)
    if proc.returncode != 0:
        raise _failure(name, "store", proc, (secret, username if username != TOKEN_USERNAME else None))


def helper_get(name: str, server_url: str) -> HelperCredentials | None:
    """Ask helper ``name`` for ``server_url``; ``None`` when it has no entry."""
    proc = _run(name, "get", server_url)
    if proc.returncode != 0:
        if _is_not_found(proc.stdout, proc.stderr):
            return None
        raise _failure(name, "get", proc, ())
    program = helper_program(name)
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        answer = None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("Username", ""), str)
        or not isinstance(answer.get("Secret", ""), str)
    ):
        raise DockerConfigError(
            f"Docker credential helper '{program} get' returned output that is not a credentials JSON "
            "object: check or reinstall the helper."
        )
    username = answer.get("Username") or ""
    secret = answer.get("Secret") or ""
    if not username and not secret:
        return None
    server = answer.get("ServerURL")
    return HelperCredentials(
        server_url=server if isinstance(server, str) and server else server_url,
        username=username,
        secret=secret,
    )


def helper_erase(name: str, server_url: str) -> bool:
    """Erase ``server_url`` from helper ``name``; ``False`` when there was nothing to erase."""
    proc = _run(name, "erase", server_url)
    if proc.returncode != 0:
        if _is_not_found(proc.stdout, proc.stderr):
            return False
        raise _failure(name, "erase", proc, ())
    return True


def helper_list(name: str) -> dict[str, str]:
    """The ``{server: username}`` map helper ``name`` holds."""
    proc = _run(name, "list", "")
    if proc.returncode != 0:
        if _is_not_found(proc.stdout, proc.stderr):
            return {}
        raise _failure(name, "list", proc, ())
    text = proc.stdout.strip()
    if not text:
        return {}
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise DockerConfigError(
            f"Docker credential helper '{helper_program(name)} list' returned output that is not a JSON "
            "object: check or reinstall the helper."
        )
    return {str(k): v if isinstance(v, str) else "" for k, v in answer.items()}
