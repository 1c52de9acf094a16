"""The real Azure CLI against the emulator's AAD, ARM slice and registry (the README's recipe).

Uses the azure-cli venv that scripts/test installs at .bench/az (the test fails in CI without it and
skips elsewhere). Each `az` call takes a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from identity_helpers import DEV_SP_OBJECT_ID, MANAGED_IDENTITY_OBJECT_ID, NO_IDENTITY, claims, signed_in_subject
from servers import require_az


class Az:
    def __init__(self, emulator, config_dir: Path):
        self.emulator = emulator
        self.env = {k: v for k, v in os.environ.items() if k not in NO_IDENTITY}
        self.env.update(AZURE_CONFIG_DIR=str(config_dir), REQUESTS_CA_BUNDLE=emulator.ca_cert,
                        AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_NO_COLOR="true")

    def __call__(self, *args: str, **extra: str):
        proc = subprocess.run([str(require_az()), *args], env={**self.env, **extra}, capture_output=True, text=True,
                              timeout=180)
        assert proc.returncode == 0, f"az {' '.join(args)}: {proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def register_cloud(self) -> None:
        """The README's recipe: a custom cloud whose AAD and ARM are the emulator, login servers `NAME:PORT`."""
        url, port = self.emulator.url, self.emulator.info["port"]
        self("cloud", "register", "-n", "AcrEmulator", "--skip-endpoint-discovery",
             "--endpoint-resource-manager", url + "/", "--endpoint-active-directory", url,
             "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
             "--suffix-acr-login-server-endpoint", f":{port}")
        self("cloud", "set", "-n", "AcrEmulator")
        self("config", "set", "core.instance_discovery=false")


@pytest.fixture
def az(emulator, tmp_path):
    client = Az(emulator, tmp_path / "azure")
    client.register_cloud()
    return client


def test_real_az_service_principal_login_then_acr_login_and_repository_list(az, acr, tmp_path):
    info = az.emulator.info
    (tmp_path / "hello.txt").write_text("hello\n")
    pushed = acr("artifact", "push", f"{acr.server}/identity/real-az:v1", "hello.txt", cwd=tmp_path)
    assert pushed.code == 0, pushed.stderr

    accounts = az("login", "--service-principal", "-u", info["clientId"], "-p", info["clientSecret"],
                  "--tenant", info["tenantId"])
    assert accounts[0]["id"] == info["subscriptionId"]
    token = az("acr", "login", "-n", "localhost", "--expose-token")
    assert token["loginServer"] == acr.server
    assert claims(token["refreshToken"])["sub"] == DEV_SP_OBJECT_ID
    assert "identity/real-az" in az("acr", "repository", "list", "-n", "localhost")

    # acr's azurecli source reads what the real az left (a service principal: service_principal_entries.json)
    result = acr("login", "-n", acr.server, "--expose-token",
                 env={**NO_IDENTITY, "AZURE_CONFIG_DIR": az.env["AZURE_CONFIG_DIR"], "ACR_IDENTITY": "azurecli"})
    assert signed_in_subject(result) == DEV_SP_OBJECT_ID


def test_real_az_login_with_the_emulator_managed_identity(az):
    info = az.emulator.info
    managed = {"IDENTITY_ENDPOINT": az.emulator.url + "/msi/token", "IDENTITY_HEADER": info["identityHeader"]}
    az("login", "--identity", **managed)
    token = az("acr", "login", "-n", "localhost", "--expose-token", **managed)
    assert claims(token["refreshToken"])["sub"] == MANAGED_IDENTITY_OBJECT_ID
    assert isinstance(az("acr", "repository", "list", "-n", "localhost", **managed), list)
