"""``acr account``: acr's own Azure AD sign-in (device code or service principal)."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

helps["account"] = """
type: group
short-summary: Sign acr itself in to Azure AD, for registries you reach with your own account.
long-summary: >
    acr finds an Azure AD identity in this order - environment service principal, workload identity,
    managed identity, the account signed in with 'acr account login', the Azure CLI's signed-in account -
    or only the sources ACR_IDENTITY names (environment, workload, managed, account, azurecli).
    Tokens are cached in the acr config directory (ACR_CONFIG_DIR, default ~/.acr; files are 0600) and
    refreshed silently.
"""

helps["account login"] = """
type: command
short-summary: Sign in to Azure AD with a device code (default) or as a service principal.
long-summary: >
    The device code message goes to standard error; open the page it names and enter the code. The
    authority is AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com). A service principal's
    secret or certificate path is kept in account.json (0600) in the acr config directory.
examples:
  - name: Sign in with a device code.
    text: acr account login
  - name: Sign in as a service principal with a secret.
    text: acr account login --service-principal -u $CLIENT_ID -p $SECRET --tenant $TENANT_ID
  - name: Sign in as a service principal with a certificate (PEM with the certificate and its private key).
    text: acr account login --service-principal -u $CLIENT_ID --certificate sp.pem --tenant $TENANT_ID
"""

helps["account show"] = """
type: command
short-summary: Show the account acr is signed in with (never a token or secret).
examples:
  - name: Show the signed-in account.
    text: acr account show
"""

helps["account logout"] = """
type: command
short-summary: Sign out and forget the account's cached tokens.
examples:
  - name: Sign out.
    text: acr account logout
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "account", "azext_acr.commands.account#{}") as g:
        g.command("login", "account_login")
        g.command("show", "account_show")
        g.command("logout", "account_logout")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "account login") as c:
        c.argument("service_principal", options_list=["--service-principal"], action="store_true",
                   help="Sign in as a service principal (with -u, --tenant and -p or --certificate).")
        c.argument("username", options_list=["--username", "-u"], help="The service principal's client id.")
        c.argument("password", options_list=["--password", "-p"], help="The service principal's client secret.")
        c.argument("password_stdin", options_list=["--password-stdin"], action="store_true",
                   help="Read the client secret from standard input.")
        c.argument("tenant", options_list=["--tenant", "-t"],
                   help="The tenant id or domain (device code default: organizations).")
        c.argument("certificate", options_list=["--certificate"],
                   help="A PEM file with the service principal's certificate and private key.")
