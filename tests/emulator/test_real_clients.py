"""Real clients against the emulator: the azure-containerregistry SDK (AAD + exchange) and skopeo."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import tarfile

from emulator_helpers import make_registry
from servers import require_peer


def test_azure_sdk_round_trip(emulator, monkeypatch, repo):
    import azure.containerregistry as acr
    import azure.identity as identity

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_cert)
    info = emulator.info
    credential = identity.ClientSecretCredential(
        info["tenantId"],
        info["clientId"],
        info["clientSecret"],
        authority=info["authorityHost"],
        disable_instance_discovery=True,
    )
    client = acr.ContainerRegistryClient(info["url"], credential, audience="https://containerregistry.azure.net")
    data = b"layer bytes " * 1000
    layer, size = client.upload_blob(repo, io.BytesIO(data))
    config, _ = client.upload_blob(repo, io.BytesIO(b"{}"))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": layer, "size": size}],
    }
    digest = client.set_manifest(repo, manifest, tag="v1")
    assert repo in list(client.list_repository_names())
    assert client.get_manifest_properties(repo, "v1").digest == digest
    assert [t.name for t in client.list_tag_properties(repo)] == ["v1"]
    assert client.get_manifest(repo, "v1").digest == digest
    assert b"".join(client.download_blob(repo, layer)) == data
    client.update_tag_properties(repo, "v1", can_write=False)
    assert client.get_tag_properties(repo, "v1").can_write is False
    client.update_tag_properties(repo, "v1", can_write=True)
    client.delete_repository(repo)
    assert repo not in list(client.list_repository_names())


def test_skopeo_with_an_identity_token_copies_between_repositories(emulator, tmp_path, repo):
    require_peer("skopeo")
    registry = make_registry(emulator)
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        entry = tarfile.TarInfo("hello.txt")
        entry.size = 2
        tar.addfile(entry, io.BytesIO(b"hi"))
    digest, _ = registry.push_image(repo, "v1", layer=layer.getvalue())

    info = emulator.info
    aad = registry.session.post(
        info["authority"] + "/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["clientId"],
            "client_secret": info["clientSecret"],
            "scope": "https://containerregistry.azure.net/.default",
        },
    ).json()["access_token"]
    refresh = registry.request(
        "POST",
        "/oauth2/exchange",
        data={"grant_type": "access_token", "service": registry.service, "access_token": aad},
    ).json()["refresh_token"]
    authfile = tmp_path / "auth.json"
    null_user = base64.b64encode(b"00000000-0000-0000-0000-000000000000:").decode()
    authfile.write_text(json.dumps({"auths": {registry.service: {"auth": null_user, "identitytoken": refresh}}}))
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(emulator.ca_cert, certs / "ca.crt")

    common = ["--authfile", str(authfile)]
    source, target = f"docker://{registry.service}/{repo}:v1", f"docker://{registry.service}/{repo}-copy:v2"
    subprocess.run(
        ["skopeo", "copy", *common, "--src-cert-dir", str(certs), "--dest-cert-dir", str(certs), source, target],
        check=True,
        capture_output=True,
        timeout=60,
    )
    out = subprocess.run(
        ["skopeo", "inspect", *common, "--cert-dir", str(certs), target],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    inspected = json.loads(out.stdout)
    assert inspected["RepoTags"] == ["v2"]
    assert inspected["Architecture"] == "amd64"
