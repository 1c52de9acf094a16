"""Arguments every command shares (registry name, credentials), and the top-level help."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.help_files import helps

from .._types import NAME_HELP

helps[""] = """
type: group
short-summary: Work with Azure Container Registries (and any OCI registry) without Docker.
"""


def load_commands(loader) -> None:
    """No commands of its own."""


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "") as c:
        c.argument("registry_name", options_list=["--name", "-n"], help=NAME_HELP, configured_default="acr")
        c.argument("suffix", options_list=["--suffix"],
                   help="The tenant suffix in the registry login server, e.g. 'contoso' for "
                        "myregistry-contoso.azurecr.io.")
        c.argument("username", options_list=["--username", "-u"],
                   help="The username used to log into a container registry.")
        c.argument("password", options_list=["--password", "-p"],
                   help="The password used to log into a container registry.")
        c.argument("password_stdin", options_list=["--password-stdin"], action="store_true",
                   help="Read the password from standard input.")
        c.argument("resource_group_name", options_list=["--resource-group", "-g"],
                   help="Accepted for compatibility with az; not used.")
        c.argument("yes", options_list=["--yes", "-y"], action="store_true", help="Do not prompt for confirmation.")
