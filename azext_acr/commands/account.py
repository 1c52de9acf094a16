"""``acr account login|show|logout``: acr's own Azure AD sign-in, kept in the acr config directory."""

from __future__ import annotations

import sys

from knack.log import get_logger
from knack.util import CLIError

from ._common import read_password_stdin

logger = get_logger(__name__)


def account_login(service_principal=False, username=None, password=None, password_stdin=False, tenant=None,
                  certificate=None):
    """Device code by default; ``--service-principal -u ID -p SECRET --tenant T`` or ``--certificate PEM``."""
    from ..identity import account

    password = read_password_stdin(password, password_stdin)
    if not service_principal:
        if username or password or certificate:
            raise CLIError("-u/-p and --certificate sign in a service principal: add --service-principal.")
        return account.login_device_code(tenant)
    if not username:
        raise CLIError("--service-principal needs -u/--username (the application's client id).")
    if not tenant:
        raise CLIError("--service-principal needs --tenant.")
    if bool(password) == bool(certificate):
        raise CLIError("Give exactly one of -p/--password (a client secret) and --certificate (a PEM file with "
                       "the certificate and its private key).")
    return account.login_service_principal(username, password, certificate, tenant)


def account_show():
    from ..identity import account

    found = account.load_account()
    if found is None:
        raise CLIError("Not signed in. Run 'acr account login'.")
    return account.describe(found)


def account_logout():
    from ..identity import account

    gone = account.logout()
    if gone is None:
        logger.warning("Not signed in with 'acr account login'.")
    else:
        print(f"Signed out {gone['name']}.", file=sys.stderr)
