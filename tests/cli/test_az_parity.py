"""Output parity with the real Azure CLI: the same commands against the same registry state print the
same JSON (and the same table columns, the same exit codes).

Uses the azure-cli venv that scripts/test installs at .bench/az (fails in CI without it, skips elsewhere).
Both tools sign in with the emulator's admin user, which needs no ARM.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from servers import require_az

LAYER = "application/vnd.unknown.layer.v1+txt"


@pytest.fixture(scope="module")
def az(emulator, tmp_path_factory):
    az_path = require_az()
    home = tmp_path_factory.mktemp("az")
    env = dict(os.environ, AZURE_CONFIG_DIR=str(home), REQUESTS_CA_BUNDLE=emulator.ca_cert,
               AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_NO_COLOR="true", AZURE_CORE_SURVEY_MESSAGE="false")
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        env.pop(name, None)
    port = emulator.info["port"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(az_path), *args], env=env, capture_output=True, text=True, timeout=180)

    for args in (["cloud", "register", "-n", "AcrEmulator", "--skip-endpoint-discovery",
                  "--endpoint-resource-manager", emulator.url + "/", "--endpoint-active-directory", emulator.url,
                  "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
                  "--suffix-acr-login-server-endpoint", f":{port}"],
                 ["cloud", "set", "-n", "AcrEmulator"], ["config", "set", "core.instance_discovery=false"]):
        assert run(*args).returncode == 0
    return run


@pytest.fixture(scope="module")
def state(emulator, tmp_path_factory):
    """A registry state both tools read: two tags on one manifest, a second manifest, a locked tag."""
    from acrtest import AcrRunner

    acr = AcrRunner(emulator, tmp_path_factory.mktemp("acr"))
    for name, ref in (("a.txt", "parity/app:v1,latest"), ("b.txt", "parity/app:v2")):
        (acr.home / name).write_text(name)
        assert acr("artifact", "push", f"{acr.server}/{ref}", f"{name}:{LAYER}").code == 0
    assert acr("repository", "update", "-n", acr.server, "--image", "parity/app:v2", "--write-enabled",
               "false").code == 0
    return acr


COMMANDS = [
    ["repository", "show", "--repository", "parity/app"],
    ["repository", "show", "--image", "parity/app:v1"],
    ["repository", "show-tags", "--repository", "parity/app"],
    ["repository", "show-tags", "--repository", "parity/app", "--detail"],
    ["repository", "show-tags", "--repository", "parity/app", "--top", "2", "--orderby", "time_desc"],
    ["repository", "show-manifests", "--repository", "parity/app"],
    ["repository", "show-manifests", "--repository", "parity/app", "--detail"],
    ["manifest", "list-metadata", "-n", "parity/app"],
    ["manifest", "show-metadata", "-n", "parity/app:v2"],
    ["manifest", "show", "-n", "parity/app:v1"],
    ["manifest", "list", "-n", "parity/app"],
    ["repository", "show", "--image", "parity/app:nope"],
    ["repository", "show-tags", "--repository", "parity/nope"],
]


def _with_registry(args: list[str], name: str) -> list[str]:
    flag = "-r" if args[0] == "manifest" else "-n"
    return [*args, flag, name]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
@pytest.mark.parametrize("output", ["json", "table", "tsv"])
def test_acr_prints_what_az_prints(az, state, args, output):
    user, password = state.emulator.info["adminUsername"], state.emulator.info["adminPassword"]
    creds = ["-u", user, "-p", password, "-o", output]
    expected = az("acr", *_with_registry(args, "localhost"), *creds)
    actual = state(*_with_registry(args, state.server), *creds)
    assert actual.code == expected.returncode, (actual.stderr, expected.stderr)
    if expected.returncode != 0:
        return
    if output == "json":
        assert json.loads(actual.stdout) == json.loads(expected.stdout)
        assert actual.stdout == expected.stdout  # same key order and indentation, byte for byte
    else:
        assert actual.stdout.splitlines()[:2] == expected.stdout.splitlines()[:2] or output == "tsv"
        assert sorted(actual.stdout.splitlines()) == sorted(expected.stdout.splitlines())
