"""The chain's order, token reuse across acr processes, silent refresh, and its failure messages."""

from __future__ import annotations

import os
import stat

import pytest
from identity_helpers import (
    DEV_SP_OBJECT_ID,
    DEV_USER,
    MANAGED_IDENTITY_OBJECT_ID,
    NO_IDENTITY,
    delta,
    federated_token_file,
    signed_in_subject,
    stats,
    write_az_files,
)


def expose(acr, **env):
    return acr("login", "-n", acr.server, "--expose-token", env={**NO_IDENTITY, **env})


def _one_line_error(result, *secrets: str) -> str:
    assert result.code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
    return lines[0]


def test_the_chain_tries_environment_workload_managed_account_then_azure_cli(acr, tmp_path):
    info = acr.emulator.info
    az_dir = tmp_path / "azure"
    write_az_files(acr.emulator, az_dir)
    login = acr("account", "login", "--service-principal", "-u", info["clientId"], "-p", info["clientSecret"],
                "--tenant", info["tenantId"], env=NO_IDENTITY)
    assert login.code == 0, login.stderr
    sp = {"AZURE_CLIENT_ID": info["clientId"], "AZURE_TENANT_ID": info["tenantId"]}
    managed = {"IDENTITY_ENDPOINT": acr.emulator.url + "/msi/token", "IDENTITY_HEADER": info["identityHeader"]}
    az = {"AZURE_CONFIG_DIR": str(az_dir)}
    # acr's own account is a service principal here, so "account" and "environment" differ only in the
    # source used; the Azure CLI's account is a user, the managed identity has its own object id
    everything = {**sp, "AZURE_CLIENT_SECRET": info["clientSecret"], **managed, **az}
    assert signed_in_subject(expose(acr, **everything)) == DEV_SP_OBJECT_ID
    assert signed_in_subject(expose(acr, **managed, **az)) == MANAGED_IDENTITY_OBJECT_ID
    assert signed_in_subject(expose(acr, **az)) == DEV_SP_OBJECT_ID  # acr account before az
    assert acr("account", "logout", env=NO_IDENTITY).code == 0
    assert signed_in_subject(expose(acr, **az)) == DEV_USER
    # ACR_IDENTITY picks sources explicitly, whatever else is configured
    assert signed_in_subject(expose(acr, **everything, ACR_IDENTITY="azurecli")) == DEV_USER
    # (as in azure-identity, AZURE_CLIENT_ID would pick a user-assigned managed identity: leave it out)
    assert signed_in_subject(expose(acr, **managed, **az, ACR_IDENTITY="managed,azurecli")) == \
        MANAGED_IDENTITY_OBJECT_ID


def test_workload_identity_comes_before_managed_identity(acr, tmp_path):
    info = acr.emulator.info
    token_file = federated_token_file(acr.emulator, tmp_path / "token")
    before = stats(acr.emulator)
    result = expose(acr, AZURE_CLIENT_ID=info["clientId"], AZURE_TENANT_ID=info["tenantId"],
                    AZURE_FEDERATED_TOKEN_FILE=str(token_file), AZURE_POD_IDENTITY_AUTHORITY_HOST=acr.emulator.url)
    assert signed_in_subject(result) == DEV_SP_OBJECT_ID
    assert delta(before, stats(acr.emulator), "managed_identity") == 0


def test_when_every_source_fails_one_message_names_each(acr, tmp_path):
    result = expose(acr, AZURE_CONFIG_DIR=str(tmp_path / "no-az"))
    line = _one_line_error(result)
    for source in ("environment:", "workload:", "managed:", "account:", "azurecli:"):
        assert source in line


def test_an_unknown_acr_identity_is_a_clear_error(acr):
    line = _one_line_error(expose(acr, ACR_IDENTITY="keyring"))
    assert "ACR_IDENTITY" in line and "keyring" in line


def test_a_second_acr_process_reuses_the_cached_token(acr):
    before = stats(acr.emulator)
    assert acr("login", "-n", acr.server, "--expose-token").code == 0
    assert acr("login", "-n", acr.server, "--expose-token").code == 0
    assert delta(before, stats(acr.emulator), "token:client_credentials") == 1
    cache = acr.home / "acr" / "msal_token_cache.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600


def test_an_expired_token_is_refreshed_silently(launch, tmp_path):
    """AAD tokens live 60 s here; MSAL treats tokens with under 5 minutes left as expired and refreshes."""
    from acrtest import AcrRunner

    emulator = launch("--aad-token-ttl", "60", "--auto-approve-device-code")
    acr = AcrRunner(emulator, tmp_path)
    login = acr("account", "login", env=NO_IDENTITY)
    assert login.code == 0, login.stderr
    before = stats(emulator)
    assert signed_in_subject(expose(acr)) == DEV_USER
    assert signed_in_subject(expose(acr)) == DEV_USER
    after = stats(emulator)
    assert delta(before, after, "token:refresh_token") == 2
    assert delta(before, after, "devicecode") == 0


def test_a_wrong_secret_is_one_line_without_the_secret(acr):
    wrong = "not-the-secret-8c1f0e"
    line = _one_line_error(acr("login", "-n", acr.server, "--expose-token", env={"AZURE_CLIENT_SECRET": wrong}),
                           wrong)
    assert "AADSTS7000215" in line


def test_an_unreachable_authority_is_one_line(acr):

    line = _one_line_error(acr("login", "-n", acr.server, "--expose-token",
                               env={"AZURE_AUTHORITY_HOST": "https://127.0.0.1:9"}), acr.emulator.info["clientSecret"])
    assert "Could not reach the Azure AD authority https://127.0.0.1:9" in line


def test_a_malformed_certificate_is_one_line(acr, tmp_path):
    pem = tmp_path / "broken.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    line = _one_line_error(expose(acr, AZURE_CLIENT_ID=acr.emulator.info["clientId"],
                                  AZURE_TENANT_ID=acr.emulator.info["tenantId"],
                                  AZURE_CLIENT_CERTIFICATE_PATH=str(pem)))
    assert "is not a PEM file with a certificate and its private key" in line


def test_an_expired_federated_token_is_one_line(acr, tmp_path):
    token_file = federated_token_file(acr.emulator, tmp_path / "token", expiresIn=-600)
    token = token_file.read_text()
    line = _one_line_error(expose(acr, AZURE_CLIENT_ID=acr.emulator.info["clientId"],
                                  AZURE_TENANT_ID=acr.emulator.info["tenantId"],
                                  AZURE_FEDERATED_TOKEN_FILE=str(token_file)), token)
    assert "AADSTS700024" in line and "not within its valid time range" in line


@pytest.mark.parametrize("args", [["account", "login", "-u", "x"], ["account", "login", "--service-principal"]])
def test_account_login_usage_errors_are_one_line(acr, args):
    _one_line_error(acr(*args, env=NO_IDENTITY))
