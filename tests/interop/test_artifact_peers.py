"""acr's artifacts read and written by peers: oras-py and skopeo against the emulator, and Debian's
docker-registry. Every round trip compares bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

oras_client = pytest.importorskip("oras.client", reason="oras-py is a test extra")

TEXT = "application/vnd.unknown.layer.v1+txt"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def login(acr) -> None:
    """oras-py then reads ``auths[server].auth`` (null GUID + refresh token) from the config acr wrote."""
    result = acr("login", "-n", acr.server)
    assert result.code == 0, result.stderr


def test_acr_push_oras_py_pull_is_byte_identical(acr, emulator, tmp_path, monkeypatch):
    login(acr)
    payload = os.urandom(2 * 1024 * 1024 + 5)
    (acr.home / "data.bin").write_bytes(payload)
    (acr.home / "note.txt").write_text("hello oras")
    ref = f"{acr.server}/peers/to-oras:v1"
    pushed = acr("artifact", "push", ref, "data.bin", f"note.txt:{TEXT}")
    assert pushed.code == 0, pushed.stderr

    client = oras_client.OrasClient(hostname=acr.server, tls_verify=emulator.ca_cert)
    out = tmp_path / "oras-out"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    files = client.pull(target=ref, outdir=str(out), config_path=str(acr.config_file))
    assert sorted(Path(f).name for f in files) == ["data.bin", "note.txt"]
    assert (out / "data.bin").read_bytes() == payload
    assert (out / "note.txt").read_text() == "hello oras"


def test_oras_py_push_acr_pull_is_byte_identical(acr, emulator, tmp_path, monkeypatch):
    login(acr)
    source = tmp_path / "src"
    (source / "tree").mkdir(parents=True)
    payload = os.urandom(1024 * 1024 + 3)
    (source / "blob.bin").write_bytes(payload)
    (source / "tree" / "inner.txt").write_text("inside")
    monkeypatch.chdir(source)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    # oras-py's token backend keeps one token whatever the scope: the pull token it gets for its first HEAD is
    # reused for the upload and refused. Its basic backend with the admin user pushes.
    client = oras_client.OrasClient(hostname=acr.server, tls_verify=emulator.ca_cert, auth_backend="basic")
    client.auth.set_basic_auth(emulator.info["adminUsername"], emulator.info["adminPassword"])
    ref = f"{acr.server}/peers/from-oras:v1"
    response = client.push(target=ref, files=["blob.bin", "tree"], quiet=True)
    assert response.status_code == 201

    out = tmp_path / "acr-out"
    pulled = acr("artifact", "pull", ref, "-o", str(out))
    assert pulled.code == 0, pulled.stderr
    assert (out / "blob.bin").read_bytes() == payload
    # oras-py marks a directory only by its media type (no io.deis.oras.content.unpack annotation); like the
    # oras CLI, acr unpacks only what carries the annotation, so the layer arrives as the archive itself.
    with tarfile.open(out / "tree", "r:gz") as archive:
        assert archive.extractfile("tree/inner.txt").read() == b"inside"


def test_acr_pushed_directory_unpacks_with_oras_py(acr, emulator, tmp_path, monkeypatch):
    login(acr)
    (acr.home / "docs" / "deep").mkdir(parents=True)
    (acr.home / "docs" / "deep" / "page.md").write_text("# page")
    ref = f"{acr.server}/peers/dir-to-oras:v1"
    assert acr("artifact", "push", ref, "docs").code == 0
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    client = oras_client.OrasClient(hostname=acr.server, tls_verify=emulator.ca_cert)
    out = tmp_path / "oras-out"
    client.pull(target=ref, outdir=str(out), config_path=str(acr.config_file))
    assert (out / "docs" / "deep" / "page.md").read_text() == "# page"


def test_acr_push_skopeo_copy_to_oci_layout_has_the_same_blobs(acr, emulator, tmp_path, skopeo):
    login(acr)
    payload = os.urandom(512 * 1024)
    (acr.home / "layer.bin").write_bytes(payload)
    ref = f"{acr.server}/peers/to-skopeo:v1"
    pushed = acr("artifact", "push", ref, "layer.bin:application/octet-stream")
    assert pushed.code == 0, pushed.stderr
    digest = pushed.stdout.splitlines()[-1].split()[1]

    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(emulator.ca_cert, certs / "ca.crt")
    layout = tmp_path / "layout"
    copied = subprocess.run([skopeo, "copy", "--src-cert-dir", str(certs), "--authfile", str(acr.config_file),
                             f"docker://{ref}", f"oci:{layout}:v1"], capture_output=True, text=True, timeout=120)
    assert copied.returncode == 0, copied.stderr
    index = json.loads((layout / "index.json").read_text())
    assert index["manifests"][0]["digest"] == digest  # the manifest came over unchanged
    manifest = json.loads((layout / "blobs" / "sha256" / digest[7:]).read_bytes())
    layer = manifest["layers"][0]
    assert layer["digest"] == sha256(payload)
    assert (layout / "blobs" / "sha256" / layer["digest"][7:]).read_bytes() == payload


# -- Debian's docker-registry: plain http, no referrers API ----------------------------------------
def test_docker_registry_round_trips_with_oras_py_both_ways(acr, docker_registry, tmp_path, monkeypatch):
    env = {"ACR_PLAIN_HTTP": "1"}
    server = docker_registry.login_server
    payload = os.urandom(300 * 1024)
    (acr.home / "a.bin").write_bytes(payload)
    assert acr("artifact", "push", f"{server}/plain/a:v1", "a.bin", env=env).code == 0
    client = oras_client.OrasClient(hostname=server, insecure=True)
    out = tmp_path / "oras-out"
    client.pull(target=f"{server}/plain/a:v1", outdir=str(out))
    assert (out / "a.bin").read_bytes() == payload

    monkeypatch.chdir(out)
    client.push(target=f"{server}/plain/b:v1", files=["a.bin"], quiet=True)
    back = tmp_path / "acr-out"
    pulled = acr("artifact", "pull", f"{server}/plain/b:v1", "-o", str(back), env=env)
    assert pulled.code == 0, pulled.stderr
    assert (back / "a.bin").read_bytes() == payload


def test_attach_and_discover_use_the_referrers_tag_without_a_referrers_api(acr, docker_registry):
    env = {"ACR_PLAIN_HTTP": "1"}
    server = docker_registry.login_server
    (acr.home / "app.txt").write_text("app")
    (acr.home / "sig.txt").write_text("sig")
    pushed = acr("artifact", "push", f"{server}/plain/app:v1", "app.txt", env=env)
    subject = pushed.stdout.splitlines()[-1].split()[1]
    attached = acr("artifact", "attach", f"{server}/plain/app:v1", "--artifact-type", "application/vnd.sig",
                   "sig.txt", env=env)
    assert attached.code == 0, attached.stderr
    sig = attached.stdout.splitlines()[1].split()[1]
    found = acr("artifact", "discover", f"{server}/plain/app:v1", "-o", "json", env=env)
    assert found.code == 0, found.stderr
    assert found.json["digest"] == subject
    assert [m["digest"] for m in found.json["manifests"]] == [sig]
