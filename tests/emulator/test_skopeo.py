"""skopeo (Debian) against the emulator: a multi-layer image in and back byte-identical, and tag
listings that span several pages."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from seed import Seeder
from servers import require_peer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def skopeo(emulator, tmp_path):
    binary = require_peer("skopeo")
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(emulator.ca_cert, certs / "ca.crt")
    creds = f"{emulator.info['adminUsername']}:{emulator.info['adminPassword']}"

    def run(*args: str) -> str:
        proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    run.tls = ["--cert-dir", str(certs), "--creds", creds]
    run.src_tls = ["--src-cert-dir", str(certs), "--src-creds", creds]
    run.dest_tls = ["--dest-cert-dir", str(certs), "--dest-creds", creds]
    return run


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def make_layout(layout: Path, tag: str) -> bytes:
    """An OCI image layout with a three-layer image, written by hand (no other tool involved)."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layers = [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **_blob(layout, bytes([i]) * (1000 * (i + 1)))}
              for i in range(3)]
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(layout, config)},
                           "layers": layers}).encode()
    descriptor = {"mediaType": OCI_MANIFEST, **_blob(layout, manifest),
                  "annotations": {"org.opencontainers.image.ref.name": tag}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    return manifest


def test_skopeo_copies_a_multi_layer_image_in_and_back_byte_identical(emulator, skopeo, tmp_path):
    source, back = tmp_path / "source", tmp_path / "back"
    manifest = make_layout(source, "v1")
    remote = f"docker://{emulator.login_server}/skopeo/multilayer:v1"
    skopeo("copy", "--preserve-digests", *skopeo.dest_tls, f"oci:{source}:v1", remote)
    skopeo("copy", "--preserve-digests", *skopeo.src_tls, remote, f"oci:{back}:v1")
    index = json.loads((back / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    original = {p.name: p.read_bytes() for p in (source / "blobs" / "sha256").iterdir()}
    copied = {p.name: p.read_bytes() for p in (back / "blobs" / "sha256").iterdir()}
    assert copied == original
    inspected = json.loads(skopeo("inspect", *skopeo.tls, remote))
    assert len(inspected["Layers"]) == 3


def test_skopeo_list_tags_follows_pages(emulator, skopeo):
    seeder = Seeder(emulator)
    digest = seeder.image("skopeo/paged", "t000")
    body = seeder.http.get(f"{emulator.url}/v2/skopeo/paged/manifests/{digest}",
                           headers={"Accept": OCI_MANIFEST}).content
    for i in range(1, 250):
        response = seeder.http.put(f"{emulator.url}/v2/skopeo/paged/manifests/t{i:03d}", data=body,
                                   headers={"Content-Type": OCI_MANIFEST})
        assert response.status_code == 201
    listed = json.loads(skopeo("list-tags", *skopeo.tls, f"docker://{emulator.login_server}/skopeo/paged"))
    assert listed["Tags"] == [f"t{i:03d}" for i in range(250)]
    first_page = seeder.http.get(f"{emulator.url}/v2/skopeo/paged/tags/list")
    assert len(first_page.json()["tags"]) < 250 and 'rel="next"' in first_page.headers["Link"]
