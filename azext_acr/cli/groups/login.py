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
    ACR refresh token and stores it in config.json (DOCKER_CONFIG honoured) or the configured credential
    helper. Docker does not need to be installed.
examples:
  - name: Log in to an Azure Container Registry.
    text: acr login -n myregistry
  - name: Print a refresh token instead of writing the Docker config.
    text: acr login -n myregistry --expose-token
  - name: Log in with a username and a password read from standard input.
    text: echo $PASSWORD | acr login -n myregistry -u myuser --password-stdin
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
