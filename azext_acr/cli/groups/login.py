"""``acr login`` and ``acr logout``."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

helps["login"] = """
type: command
short-summary: Log in to a container registry by writing its credentials to the Docker config.
long-summary: >
    Signs in to Azure AD (environment service principal, workload identity, ...), exchanges the token for an
    ACR refresh token and stores it in config.json (DOCKER_CONFIG honoured) or the credential helper that
    config.json names (credHelpers, credsStore). Docker does not need to be installed. With -u/-p the
    credentials are checked against the registry before anything is stored. Any failure exits non-zero
    and leaves the Docker config as it was.
examples:
  - name: Log in to an Azure Container Registry.
    text: acr login -n myregistry
  - name: Print a refresh token instead of writing the Docker config.
    text: acr login -n myregistry --expose-token
  - name: Log in with a username and a password read from standard input.
    text: echo $PASSWORD | acr login -n myregistry -u myuser --password-stdin
  - name: Also log the Docker daemon in (runs 'docker login', or $DOCKER_COMMAND, with the token on stdin).
    text: acr login -n myregistry --docker
  - name: Never re-login again - let docker, skopeo and oras ask docker-credential-acr for a fresh token.
    text: >
        Put {"credHelpers": {"myregistry.azurecr.io": "acr"}} in ~/.docker/config.json and export
        AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE).
"""

helps["logout"] = """
type: command
short-summary: Remove a registry's credentials from the Docker config (or its credential helper).
examples:
  - name: Log out of a registry.
    text: acr logout -n myregistry
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "", "azext_acr.commands.login#{}") as g:
        g.command("login", "acr_login")
        g.command("logout", "acr_logout")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "login") as c:
        c.argument("expose_token", options_list=["--expose-token", "-t"], action="store_true",
                   help="Print the ACR refresh token instead of writing it to the Docker config.")
        c.argument("docker", options_list=["--docker"], action="store_true",
                   help="Also run 'docker login' (or the command in DOCKER_COMMAND, e.g. podman) with the "
                        "credentials on standard input, for a Docker daemon. Implied when DOCKER_COMMAND is set.")
