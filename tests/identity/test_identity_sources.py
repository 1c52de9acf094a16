"""Each identity source of the chain, with the real acr CLI and real MSAL against the emulator's AAD.

The subject of the ACR refresh token that `acr login --expose-token` prints names the AAD principal the
chain signed in as, so every test shows which source was used.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid

from identity_helpers import (
    DEV_SP_OBJECT_ID,
    DEV_USER,
    MANAGED_IDENTITY_OBJECT_ID,
    NO_IDENTITY,
    control,
    delta,
    federated_token_file,
    make_certificate,
    register_certificate_principal,
    signed_in_subject,
    stats,
    write_az_files,
)


def expose(acr, keep_environment=False, **env):
    """`acr login --expose-token`, with no identity source configured but those in `env`."""
    merged = env if keep_environment else {**NO_IDENTITY, **env}
    return acr("login", "-n", acr.server, "--expose-token", env=merged)


def test_environment_service_principal_with_a_secret_signs_in(acr):
    assert signed_in_subject(expose(acr, keep_environment=True)) == DEV_SP_OBJECT_ID


def test_environment_service_principal_with_a_certificate_signs_in(acr, tmp_path):
    pem = tmp_path / "sp.pem"
    principal = register_certificate_principal(acr.emulator, make_certificate(pem))
    result = expose(acr, AZURE_CLIENT_ID=principal["clientId"],
                    AZURE_TENANT_ID=acr.emulator.info["tenantId"], AZURE_CLIENT_CERTIFICATE_PATH=str(pem))
    assert signed_in_subject(result) == principal["objectId"]


def test_a_certificate_the_directory_does_not_know_is_refused(acr, tmp_path):
    registered, other = tmp_path / "registered.pem", tmp_path / "other.pem"
    principal = register_certificate_principal(acr.emulator, make_certificate(registered))
    make_certificate(other)
    result = expose(acr, AZURE_CLIENT_ID=principal["clientId"],
                    AZURE_TENANT_ID=acr.emulator.info["tenantId"], AZURE_CLIENT_CERTIFICATE_PATH=str(other))
    assert result.code == 1
    assert "AADSTS700027" in result.stderr


def test_workload_identity_exchanges_a_federated_token(acr, tmp_path):
    token_file = federated_token_file(acr.emulator, tmp_path / "token")
    result = expose(acr, AZURE_CLIENT_ID=acr.emulator.info["clientId"],
                    AZURE_TENANT_ID=acr.emulator.info["tenantId"], AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    assert signed_in_subject(result) == DEV_SP_OBJECT_ID


def test_a_federated_token_for_another_subject_is_refused(acr, tmp_path):
    token_file = federated_token_file(acr.emulator, tmp_path / "token", subject="system:serviceaccount:x:y")
    result = expose(acr, AZURE_CLIENT_ID=acr.emulator.info["clientId"],
                    AZURE_TENANT_ID=acr.emulator.info["tenantId"], AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    assert result.code == 1
    assert "AADSTS700213" in result.stderr


def test_managed_identity_app_service_style(acr):
    info = acr.emulator.info
    result = expose(acr, IDENTITY_ENDPOINT=acr.emulator.url + "/msi/token",
                    IDENTITY_HEADER=info["identityHeader"])
    assert signed_in_subject(result) == MANAGED_IDENTITY_OBJECT_ID


def test_managed_identity_imds_style(acr):
    before = stats(acr.emulator)
    result = expose(acr, AZURE_POD_IDENTITY_AUTHORITY_HOST=acr.emulator.url)
    assert signed_in_subject(result) == MANAGED_IDENTITY_OBJECT_ID
    assert delta(before, stats(acr.emulator), "managed_identity") == 1


def test_managed_identity_user_assigned_by_client_id(acr):
    principal = control(acr.emulator, "POST", "principals",
                        json={"type": "managedIdentity", "clientId": str(uuid.uuid4())})
    result = expose(acr, AZURE_POD_IDENTITY_AUTHORITY_HOST=acr.emulator.url,
                    AZURE_CLIENT_ID=principal["clientId"])
    assert signed_in_subject(result) == principal["objectId"]


def test_the_azure_cli_account_is_read_from_its_cache_without_writing_it(acr, tmp_path):
    az_dir = tmp_path / "azure"
    write_az_files(acr.emulator, az_dir)
    before = {p.name: p.read_bytes() for p in az_dir.iterdir()}
    result = expose(acr, AZURE_CONFIG_DIR=str(az_dir))
    assert signed_in_subject(result) == DEV_USER
    assert {p.name: p.read_bytes() for p in az_dir.iterdir()} == before


def test_acr_account_login_with_a_device_code_then_show_and_logout(acr):
    env = {**acr.env, **{k: v for k, v in NO_IDENTITY.items()}}
    env = {k: v for k, v in env.items() if v is not None}
    proc = subprocess.Popen([sys.executable, "-m", "azext_acr.cli.main", "account", "login"], env=env,
                            cwd=acr.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    message = proc.stderr.readline()
    assert "enter the code" in message
    user_code = message.split("enter the code ")[1].split()[0]
    control(acr.emulator, "POST", "device/approve", json={"user_code": user_code})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"name": "developer@acr-emulator.localhost"' in out

    shown = acr("account", "show", env=NO_IDENTITY)
    assert shown.json["type"] == "user"
    assert shown.json["tenantId"] == acr.emulator.info["tenantId"]
    assert shown.json["authority"] == acr.emulator.url
    assert "eyJ" not in shown.stdout  # no JWT, access or refresh token, ever
    for name in ("account.json", "msal_token_cache.json"):
        assert stat.S_IMODE(os.stat(acr.home / "acr" / name).st_mode) == 0o600

    assert signed_in_subject(expose(acr)) == DEV_USER

    assert acr("account", "logout", env=NO_IDENTITY).code == 0
    assert acr("account", "show", env=NO_IDENTITY).code == 1
    gone = expose(acr, ACR_IDENTITY="account")
    assert gone.code == 1
    assert "not signed in with 'acr account login'" in gone.stderr


def test_acr_account_login_as_a_service_principal_with_a_secret(acr):
    info = acr.emulator.info
    login = acr("account", "login", "--service-principal", "-u", info["clientId"], "-p", info["clientSecret"],
                "--tenant", info["tenantId"], env=NO_IDENTITY)
    assert login.code == 0, login.stderr
    assert info["clientSecret"] not in login.stdout + login.stderr
    shown = acr("account", "show", env=NO_IDENTITY)
    assert shown.json["type"] == "servicePrincipal"
    assert info["clientSecret"] not in shown.stdout
    assert signed_in_subject(expose(acr)) == DEV_SP_OBJECT_ID


def test_acr_account_login_as_a_service_principal_with_a_certificate(acr, tmp_path):
    pem = tmp_path / "sp.pem"
    principal = register_certificate_principal(acr.emulator, make_certificate(pem))
    login = acr("account", "login", "--service-principal", "-u", principal["clientId"], "--certificate", str(pem),
                "--tenant", acr.emulator.info["tenantId"], env=NO_IDENTITY)
    assert login.code == 0, login.stderr
    assert signed_in_subject(expose(acr)) == principal["objectId"]


def test_registry_roles_of_a_principal_limit_what_its_tokens_grant(acr, tmp_path):
    import requests

    pem = tmp_path / "sp.pem"
    principal = register_certificate_principal(acr.emulator, make_certificate(pem), roles=["AcrPull"])
    result = expose(acr, AZURE_CLIENT_ID=principal["clientId"],
                    AZURE_TENANT_ID=acr.emulator.info["tenantId"], AZURE_CLIENT_CERTIFICATE_PATH=str(pem))
    refresh = result.json["refreshToken"]
    answer = requests.post(acr.emulator.url + "/oauth2/token", verify=acr.emulator.ca_cert, timeout=10, data={
        "grant_type": "refresh_token", "service": acr.server, "refresh_token": refresh,
        "scope": "repository:hello:pull,push"}).json()
    from identity_helpers import claims

    assert claims(answer["access_token"])["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
