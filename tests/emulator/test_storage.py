"""Storage robustness: garbage collection, uploads across restarts, concurrent pushes, deletes during
pulls, and SIGKILL in the middle of a chunked push or of manifest PUTs."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from emulator_helpers import digest_of, make_registry


def stored_blobs(data_dir: Path) -> dict[str, Path]:
    root = data_dir / "blobs" / "sha256"
    return {"sha256:" + p.name: p for p in root.glob("*/*") if p.is_file()}


def assert_consistent(data_dir: Path) -> None:
    """What a stopped (or killed) emulator left: no partial blob visible, metadata whole and coherent."""
    for digest, path in stored_blobs(data_dir).items():
        assert digest_of(path.read_bytes()) == digest, f"{path} does not hold the bytes its name says"
    db = sqlite3.connect(data_dir / "registry.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for repo, digest, body in db.execute("SELECT repo, digest, body FROM manifests"):
            assert digest_of(bytes(body)) == digest
            manifest = json.loads(body)
            for blob in [manifest.get("config"), *manifest.get("layers", [])]:
                if blob:
                    assert blob["digest"] in stored_blobs(data_dir), f"{repo}@{digest} lost {blob['digest']}"
        dangling = db.execute(
            "SELECT t.repo, t.name FROM tags t LEFT JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest "
            "WHERE m.digest IS NULL"
        ).fetchall()
        assert dangling == []
    finally:
        db.close()


def run_gc(data_dir: Path, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "azext_acr.emulator", "gc", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_gc_deletes_only_blobs_no_manifest_refers_to(tmp_path, launch):
    data_dir = tmp_path / "data"
    emu = launch(data_dir=data_dir)
    registry = make_registry(emu)
    kept, kept_manifest = registry.push_image("gc/kept", "v1")
    registry.push_image("gc/doomed", "v1", layer=b"doomed layer" * 100)
    orphan = registry.push_blob("gc/kept", b"pushed, never referenced")
    shared_layer = b"shared layer" * 50
    registry.push_image("gc/shared-a", "v1", layer=shared_layer)
    registry.push_image("gc/shared-b", "v1", layer=shared_layer)
    for repo in ("gc/doomed", "gc/shared-a"):
        assert registry.request("DELETE", f"/acr/v1/{repo}", auth=registry.admin).status_code == 202
    before = set(stored_blobs(data_dir))
    emu.stop()

    busy = launch(data_dir=data_dir)
    proc = subprocess.run([sys.executable, "-m", "azext_acr.emulator", "gc", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "in use" in proc.stderr
    busy.stop()

    report = run_gc(data_dir)["default"]
    after = set(stored_blobs(data_dir))
    assert orphan in before - after
    assert digest_of(b"doomed layer" * 100) in before - after
    assert digest_of(shared_layer) in after  # gc/shared-b still refers to it
    assert report["blobsDeleted"] == len(before - after) == 2  # the config blob is shared too
    assert_consistent(data_dir)

    again = launch(data_dir=data_dir)
    registry = make_registry(again)
    headers = registry.bearer("repository:gc/kept:pull", "repository:gc/shared-b:pull")
    pulled = registry.request("GET", "/v2/gc/kept/manifests/v1", headers=headers)
    assert pulled.content == kept_manifest
    for layer in json.loads(kept_manifest)["layers"]:
        assert registry.request("GET", f"/v2/gc/kept/blobs/{layer['digest']}", headers=headers).status_code == 200
    assert registry.request("HEAD", f"/v2/gc/kept/blobs/{orphan}", headers=headers).status_code == 404


def test_gc_at_start_and_on_an_interval_spares_recent_uploads_within_the_grace(tmp_path, launch):
    data_dir = tmp_path / "data"
    emu = launch("--gc-interval", "0.3", "--gc-grace", "1", data_dir=data_dir)
    registry = make_registry(emu)
    orphan = registry.push_blob("gc/interval", b"orphan bytes")
    registry.push_image("gc/interval", "v1")
    assert orphan in stored_blobs(data_dir)  # within the grace period
    deadline = time.time() + 10
    while orphan in stored_blobs(data_dir) and time.time() < deadline:
        time.sleep(0.2)
    assert orphan not in stored_blobs(data_dir)
    assert any("garbage collection" in line for line in emu.stderr_lines)
    second_orphan = registry.push_blob("gc/interval", b"another orphan")
    emu.stop()
    assert second_orphan in stored_blobs(data_dir)
    time.sleep(0.2)
    launch("--gc-grace", "0", data_dir=data_dir)  # GC at start-up
    assert second_orphan not in stored_blobs(data_dir)
    assert_consistent(data_dir)


def test_an_upload_session_survives_a_restart_and_resumes(tmp_path, launch):
    data_dir = tmp_path / "data"
    emu = launch(data_dir=data_dir)
    registry = make_registry(emu)
    auth = registry.bearer("repository:resume/me:push,pull")
    blob = os.urandom(300_000)
    started = registry.request("POST", "/v2/resume/me/blobs/uploads/", headers=auth)
    location = started.headers["Location"]
    first = registry.request("PATCH", location, data=blob[:100_000],
                             headers={**auth, "Content-Range": "0-99999", "Content-Type": "application/octet-stream"})
    assert first.status_code == 202 and first.headers["Range"] == "0-99999"
    emu.process.send_signal(signal.SIGKILL)
    emu.process.wait()

    again = launch(data_dir=data_dir)
    registry = make_registry(again)
    auth = registry.bearer("repository:resume/me:push,pull")
    status = registry.request("GET", location, headers=auth)
    assert status.status_code == 204 and status.headers["Range"] == "0-99999"
    second = registry.request("PATCH", location, data=blob[100_000:],
                              headers={**auth, "Content-Range": "100000-299999"})
    assert second.status_code == 202
    done = registry.request("PUT", location, params={"digest": digest_of(blob)}, headers=auth)
    assert done.status_code == 201, done.text
    assert registry.request("GET", f"/v2/resume/me/blobs/{digest_of(blob)}", headers=auth).content == blob
    unknown = registry.request("GET", "/v2/resume/me/blobs/uploads/0b7d1c1e-0000-4000-8000-000000000000",
                               headers=auth)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_twenty_clients_pushing_one_blob_at_once_all_succeed_with_one_file(fresh_emulator):
    registry = make_registry(fresh_emulator)
    data = os.urandom(2 * 1024 * 1024)
    digest = digest_of(data)
    auth = registry.bearer("repository:concurrent/blob:push,pull")

    def push(i: int) -> int:
        session = requests.Session()
        session.trust_env = False
        session.verify = fresh_emulator.ca_cert
        url = fresh_emulator.url + "/v2/concurrent/blob/blobs/uploads/"
        if i % 2:
            return session.post(url, params={"digest": digest}, data=data, headers=auth).status_code
        location = session.post(url, headers=auth).headers["Location"]
        session.patch(fresh_emulator.url + location, data=data[:1_000_000], headers=auth).raise_for_status()
        return session.put(fresh_emulator.url + location, params={"digest": digest}, data=data[1_000_000:],
                           headers=auth).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(push, range(20)))
    assert statuses == [201] * 20
    assert list(stored_blobs(fresh_emulator.data_dir)) == [digest]
    assert registry.request("GET", f"/v2/concurrent/blob/blobs/{digest}", headers=auth).content == data
    assert list((fresh_emulator.data_dir / "uploads").iterdir()) == []


def test_a_pull_in_progress_finishes_when_the_blob_is_deleted_and_later_pulls_get_404(fresh_emulator):
    registry = make_registry(fresh_emulator)
    layer = os.urandom(24 * 1024 * 1024)
    registry.push_image("delete/during-pull", "v1", layer=layer)
    digest = digest_of(layer)
    auth = registry.bearer("repository:delete/during-pull:pull,delete")
    pull = registry.request("GET", f"/v2/delete/during-pull/blobs/{digest}", headers=auth, stream=True)
    assert pull.status_code == 200
    received = hashlib.sha256()
    chunks = pull.iter_content(64 * 1024)
    received.update(next(chunks))
    assert registry.request("DELETE", "/acr/v1/delete/during-pull", auth=registry.admin).status_code == 202
    assert digest in stored_blobs(fresh_emulator.data_dir)  # GC's business, with a grace period
    for chunk in chunks:
        received.update(chunk)
    assert "sha256:" + received.hexdigest() == digest
    gone = registry.request("GET", f"/v2/delete/during-pull/blobs/{digest}", headers=auth)
    assert gone.status_code == 404


def test_sigkill_during_a_chunked_push_leaves_no_partial_blob(tmp_path, launch):
    data_dir = tmp_path / "data"
    emu = launch(data_dir=data_dir)
    registry = make_registry(emu)
    auth = registry.bearer("repository:kill/chunked:push,pull")
    blob = os.urandom(8 * 1024 * 1024)
    location = registry.request("POST", "/v2/kill/chunked/blobs/uploads/", headers=auth).headers["Location"]
    registry.request("PATCH", location, data=blob[:1024 * 1024], headers=auth).raise_for_status()
    half_sent = threading.Event()

    def body():
        for offset in range(1024 * 1024, len(blob), 256 * 1024):
            yield blob[offset:offset + 256 * 1024]
            if offset > 3 * 1024 * 1024:
                half_sent.set()
                time.sleep(0.05)

    def send_rest() -> None:
        try:
            registry.request("PUT", location, params={"digest": digest_of(blob)}, data=body(), headers=auth)
        except requests.RequestException:
            pass

    sender = threading.Thread(target=send_rest)
    sender.start()
    assert half_sent.wait(20)
    emu.process.send_signal(signal.SIGKILL)
    emu.process.wait()
    sender.join(20)
    assert digest_of(blob) not in stored_blobs(data_dir)
    assert_consistent(data_dir)

    again = launch(data_dir=data_dir)
    registry = make_registry(again)
    auth = registry.bearer("repository:kill/chunked:push,pull")
    assert registry.request("HEAD", f"/v2/kill/chunked/blobs/{digest_of(blob)}", headers=auth).status_code == 404
    status = registry.request("GET", location, headers=auth)
    assert status.status_code == 204  # resumable from what reached the disk
    offset = int(status.headers["Range"].split("-")[1]) + 1
    assert 1024 * 1024 <= offset < len(blob)
    done = registry.request("PUT", location, params={"digest": digest_of(blob)}, data=blob[offset:], headers=auth)
    assert done.status_code == 201, done.text
    assert_consistent(data_dir)


def test_sigkill_during_manifest_puts_leaves_consistent_metadata(tmp_path, launch):
    data_dir = tmp_path / "data"
    emu = launch("--quiet", data_dir=data_dir)
    registry = make_registry(emu)
    digest, manifest = registry.push_image("kill/manifests", "base")
    auth = registry.bearer("repository:kill/manifests:push,pull")
    stop = threading.Event()
    acknowledged: list[str] = []

    def put_tags(worker: int) -> None:
        session = requests.Session()
        session.trust_env = False
        session.verify = emu.ca_cert
        n = 0
        while not stop.is_set():
            tag = f"w{worker}-{n}"
            try:
                response = session.put(emu.url + f"/v2/kill/manifests/manifests/{tag}", data=manifest,
                                       headers={**auth, "Content-Type": json.loads(manifest)["mediaType"]})
            except requests.RequestException:
                return
            if response.status_code == 201:
                acknowledged.append(tag)
            n += 1

    workers = [threading.Thread(target=put_tags, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    time.sleep(0.8)
    emu.process.send_signal(signal.SIGKILL)
    emu.process.wait()
    stop.set()
    for w in workers:
        w.join(10)
    assert acknowledged
    assert_consistent(data_dir)

    again = launch(data_dir=data_dir)
    registry = make_registry(again)
    tags = {t["name"] for t in registry.request("GET", "/acr/v1/kill/manifests/_tags?n=1000",
                                                 auth=registry.admin).json()["tags"]}
    assert set(acknowledged) <= tags  # every acknowledged PUT is durable
