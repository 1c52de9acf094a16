"""The process contract: ready line, clean shutdown, persistence across restarts, plain HTTP, anonymous pull."""

from __future__ import annotations

import json
import os
import signal

import requests
from emulator_helpers import make_registry

READY_FIELDS = {
    "url",
    "loginServer",
    "caCertPath",
    "authorityHost",
    "tenantId",
    "authority",
    "clientId",
    "clientSecret",
    "adminUsername",
    "adminPassword",
    "dataDir",
}


def test_ready_line_has_the_contract_fields(emulator):
    info = emulator.info
    assert READY_FIELDS <= set(info)
    assert info["url"] == f"https://{info['loginServer']}"
    assert info["loginServer"].startswith("localhost:")
    assert info["authority"] == f"{info['authorityHost']}/{info['tenantId']}"
    assert os.path.exists(info["caCertPath"])


def test_data_persists_across_a_restart_and_sigterm_exits_cleanly(tmp_path, launch):
    data_dir = tmp_path / "data"
    first = launch(data_dir=data_dir)
    try:
        registry = make_registry(first)
        digest, manifest = registry.push_image("persist/me", "v1")
        blob = registry.push_blob("persist/me", b"some bytes")
        ca = open(first.ca_cert).read()
    finally:
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=10) == 0

    second = launch(data_dir=data_dir)
    try:
        registry = make_registry(second)
        assert open(second.ca_cert).read() == ca
        headers = registry.bearer("repository:persist/me:pull")
        assert registry.request("GET", "/v2/persist/me/manifests/v1", headers=headers).content == manifest
        assert registry.request("GET", f"/v2/persist/me/blobs/{blob}", headers=headers).content == b"some bytes"
    finally:
        second.process.send_signal(signal.SIGINT)
        assert second.process.wait(timeout=10) == 0
    assert any(" GET /v2/persist/me/manifests/v1 200 " in line for line in second.stderr_lines)


def test_plain_http_and_anonymous_pull(launch):
    emu = launch("--no-tls", "--in-memory", "--anonymous-pull")
    assert emu.info["url"].startswith("http://") and emu.info["caCertPath"] is None
    registry = make_registry(emu)
    digest, manifest = registry.push_image("anon/repo", "v1")
    token = requests.post(
        emu.url + "/oauth2/token",
        data={"grant_type": "password", "service": emu.login_server, "scope": "repository:anon/repo:pull,push"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(emu.url + "/v2/anon/repo/manifests/v1", headers=headers).content == manifest
    response = requests.post(emu.url + "/v2/anon/repo/blobs/uploads/", headers=headers)
    assert response.status_code == 401
    assert json.loads(response.content)["errors"][0]["code"] == "UNAUTHORIZED"


def test_health_needs_no_credentials(emulator):
    registry = make_registry(emulator)
    response = registry.request("GET", "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
