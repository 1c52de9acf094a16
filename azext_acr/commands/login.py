"""``acr login``: Azure AD (or -u/-p) → ACR refresh token → Docker config, with no Docker daemon."""

from __future__ import annotations

import sys

from knack.log import get_logger
from knack.util import CLIError

from ._common import read_password_stdin

logger = get_logger(__name__)

EXPOSE_TOKEN_NOTE = (
    "Note: The token in both the accessToken and refreshToken fields is an ACR Refresh Token, not an ACR "
    "Access Token. This ACR Refresh Token cannot be used directly to authenticate with registry APIs such "
    "as pushing/pulling images and listing repositories/tags. This ACR Refresh Token must be subsequently "
    "exchanged for an ACR Access Token. Please see https://aka.ms/acr/auth/oauth")
MANUAL_LOGIN_TIP = ("You can perform manual login using the provided refresh token below, for example: "
                    "'docker login loginServer -u 00000000-0000-0000-0000-000000000000 -p refreshToken'")


def acr_login(registry_name, resource_group_name=None, suffix=None, username=None, password=None,
              password_stdin=False, expose_token=False, docker=False):
    """Sign in and store the registry's credentials; ``resource_group_name`` is accepted as az does, unused."""
    if expose_token and (username or password or password_stdin):
        raise CLIError("`--expose-token` cannot be combined with `--username` or `--password`.")
    if expose_token and docker:
        raise CLIError("`--expose-token` cannot be combined with `--docker`: it only prints the token.")
    password = read_password_stdin(password, password_stdin)
    if password is not None and not username:
        raise CLIError("Please also specify username if password is specified.")
    if username and password is None:
        raise CLIError("Please specify both username and password in non-interactive mode.")

    from ..dockerconfig import Credentials, check_can_store, store_credentials
    from ..registry import connect, resolve_login_server
    from ..registry.credentials import AadCredential, UsernamePasswordCredential
    from ..registry.tokens import NULL_GUID

    login_server = resolve_login_server(registry_name, suffix)
    if registry_name != login_server and registry_name.lower() == login_server.split(".")[0] \
            and registry_name != registry_name.lower():
        logger.warning("Uppercase characters are detected in the registry name. When using its server url "
                       "in docker commands, to avoid authentication errors, use all lowercase.")

    docker_command = _docker_command(docker)
    if not expose_token:
        # A corrupt config.json or a credential helper missing from PATH fails here, before sign-in.
        helper = check_can_store(login_server)
        if helper == "docker-credential-acr":
            logger.warning("The Docker config names docker-credential-acr for %s: it mints its own tokens, "
                           "so the login is checked but nothing needs to be stored.", login_server)

    if username:
        credential = UsernamePasswordCredential(username, password)
        registry = connect(login_server, credential)
        _verify_username_password(registry, credential)
        if docker_command:
            _docker_login(docker_command, login_server, username, password)
        store_credentials(login_server, Credentials(username=username, password=password))
        print("Login Succeeded", file=sys.stderr)
        return None

    aad = AadCredential()
    registry = connect(login_server, aad)
    challenge = registry.session.ping()
    if challenge is None or challenge.scheme != "bearer" or not challenge.realm:
        raise CLIError(f"Registry '{login_server}' does not support AAD login.")
    refresh_token = aad.refresh_token(registry.session.http, challenge)
    if expose_token:
        logger.warning(EXPOSE_TOKEN_NOTE)
        logger.warning(MANUAL_LOGIN_TIP)
        result = {"accessToken": refresh_token, "loginServer": login_server, "refreshToken": refresh_token,
                  "username": NULL_GUID}
        expires = _token_expiry(refresh_token)
        if expires:
            result["expiresOn"] = expires
        return result
    if docker_command:
        _docker_login(docker_command, login_server, NULL_GUID, refresh_token)
    store_credentials(login_server, Credentials(username=NULL_GUID, password=refresh_token,
                                                identity_token=refresh_token))
    print("Login Succeeded", file=sys.stderr)
    return None


def _verify_username_password(registry, credential) -> None:
    """Prove -u/-p work before writing them anywhere: a token (Bearer) or GET /v2/ (Basic)."""
    challenge = registry.session.ping()
    if challenge is None:
        return
    if challenge.scheme == "bearer" and challenge.realm:
        credential.access_token(registry.session.http, challenge, [])
        return
    registry.session.request("GET", "/v2/")


def _docker_command(requested: bool) -> list[str] | None:
    """The docker CLI to run after writing the config: ``--docker`` or ``DOCKER_COMMAND`` (as az) ask for it."""
    import os
    import shlex

    configured = os.environ.get("DOCKER_COMMAND", "").strip()
    if not requested and not configured:
        return None
    try:
        command = shlex.split(configured) if configured else ["docker"]
    except ValueError:
        raise CLIError(f"DOCKER_COMMAND '{configured}' cannot be parsed as a command line.") from None
    return command or ["docker"]


def _docker_login(command: list[str], login_server: str, username: str, secret: str) -> None:
    """``<docker> login --username U --password-stdin SERVER``, the secret on stdin, never in argv."""
    import shutil
    import subprocess

    program = shutil.which(command[0])
    if program is None:
        raise CLIError(f"'{command[0]}' was not found on PATH, so 'docker login' could not run: install Docker "
                       "(or set DOCKER_COMMAND, e.g. to podman), or log in without --docker; Docker is not "
                       "needed for acr's own config.json entry.")
    argv = [program, *command[1:], "login", "--username", username, "--password-stdin", login_server]
    logger.info("Running %s login --username %s --password-stdin %s", command[0], username, login_server)
    try:
        proc = subprocess.run(argv, input=secret + "\n", capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise CLIError(f"'{command[0]} login {login_server}' did not finish within 120 s; "
                       "is the Docker daemon running?") from None
    except OSError as err:
        raise CLIError(f"'{program}' could not be started: {err.strerror or err}.") from None
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.strip():
            logger.info("%s: %s", command[0], line.replace(secret, "***"))
    if proc.returncode != 0:
        detail = [line.strip() for line in proc.stderr.replace(secret, "***").splitlines() if line.strip()]
        reason = f": {detail[-1][:300]}" if detail else ""
        raise CLIError(f"'{command[0]} login {login_server}' failed (exit code {proc.returncode}){reason}. "
                       "Nothing was written to the Docker config.")


def acr_logout(registry_name, suffix=None):
    from ..dockerconfig import erase_credentials
    from ..registry import resolve_login_server

    login_server = resolve_login_server(registry_name, suffix)
    if not erase_credentials(login_server):
        logger.warning("Not logged in to %s.", login_server)
    else:
        print(f"Removing login credentials for {login_server}", file=sys.stderr)


def _token_expiry(token: str) -> str | None:
    """The ``exp`` of a JWT as ISO-8601 UTC, read without verifying (it is ours to hand out)."""
    import base64
    import json
    from datetime import UTC, datetime

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (IndexError, ValueError, KeyError, TypeError):
        return None
