"""The fault run: every CLI command, against emulators that answer 20% of requests with 429 or 503
(with Retry-After) and add 1 s of latency to each — the conditions of a throttled or struggling
registry. Every command must still succeed, and nothing pushed may be lost or altered."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from acrtest import AcrRunner
from servers import start_emulator

FAULTS = ["--fault-rate", "0.2", "--fault-seed", "11", "--latency-ms", "1000"]
ENV = {"ACR_MAX_RETRIES": "8"}
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def throttling():
    emulator = start_emulator(*FAULTS, "--fault-status", "429")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def unavailable():
    emulator = start_emulator(*FAULTS, "--fault-status", "503")
    yield emulator
    emulator.stop()


def run(acr: AcrRunner, *args: str):
    try:
        result = acr(*args, "--debug", env=ENV)
    except subprocess.TimeoutExpired as timeout:
        tail = (timeout.stderr or b"")[-3000:]
        raise AssertionError(f"acr {' '.join(args)} hung under faults; last output:\n"
                             f"{tail.decode(errors='replace') if isinstance(tail, bytes) else tail}") from None
    assert result.code == 0, f"acr {' '.join(args)} failed under faults: {result.stderr[-800:]}"
    return result


def repository_track(acr: AcrRunner) -> None:
    server = acr.server
    (acr.home / "data.bin").write_bytes(bytes(range(256)) * 4096)
    run(acr, "login", "-n", server)
    pushed = run(acr, "artifact", "push", f"{server}/faults/repo:v1,v2", "data.bin:application/octet-stream")
    digest = pushed.stdout.splitlines()[-1].split()[-1]
    assert "faults/repo" in run(acr, "repository", "list", "-n", server).json
    assert run(acr, "repository", "show", "-n", server, "--repository", "faults/repo").json["tagCount"] == 2
    assert run(acr, "repository", "show", "-n", server, "--image", "faults/repo:v1").json["digest"] == digest
    assert sorted(run(acr, "repository", "show-tags", "-n", server, "--repository", "faults/repo").json) == ["v1", "v2"]
    run(acr, "repository", "show-tags", "-n", server, "--repository", "faults/repo", "--detail", "--top", "1",
        "--orderby", "time_desc")
    run(acr, "repository", "show-manifests", "-n", server, "--repository", "faults/repo")
    run(acr, "repository", "update", "-n", server, "--image", "faults/repo:v1", "--write-enabled", "false")
    run(acr, "repository", "update", "-n", server, "--image", "faults/repo:v1", "--write-enabled", "true")
    run(acr, "repository", "untag", "-n", server, "--image", "faults/repo:v2")
    (acr.home / "data.bin").unlink()
    run(acr, "artifact", "pull", f"{server}/faults/repo:v1")
    assert (acr.home / "data.bin").read_bytes() == bytes(range(256)) * 4096
    run(acr, "repository", "delete", "-n", server, "--image", "faults/repo:v1", "--yes")
    run(acr, "logout", "-n", server)


def manifest_track(acr: AcrRunner) -> None:
    server = acr.server
    (acr.home / "a.txt").write_text("artifact")
    (acr.home / "sig.txt").write_text("signature")
    run(acr, "artifact", "push", f"{server}/faults/manifests:v1", "a.txt")
    run(acr, "artifact", "attach", f"{server}/faults/manifests:v1", "--artifact-type",
        "application/vnd.example.signature", "sig.txt")
    run(acr, "artifact", "discover", f"{server}/faults/manifests:v1")
    listed = run(acr, "manifest", "list", f"{server}/faults/manifests").json
    assert len(listed) == 2
    run(acr, "manifest", "list-metadata", "-r", server, "-n", "faults/manifests")
    run(acr, "manifest", "show", f"{server}/faults/manifests:v1")
    run(acr, "manifest", "show-metadata", f"{server}/faults/manifests:v1")
    run(acr, "manifest", "update-metadata", f"{server}/faults/manifests:v1", "--delete-enabled", "true")
    referrers = run(acr, "manifest", "list-referrers", f"{server}/faults/manifests:v1").json["manifests"]
    assert len(referrers) == 1
    run(acr, "manifest", "delete", f"{server}/faults/manifests:v1", "--yes")


def purge_track(acr: AcrRunner) -> None:
    server = acr.server
    for i in range(3):
        (acr.home / "f.txt").write_text(str(i))
        run(acr, "artifact", "push", f"{server}/faults/purge:t{i}", "f.txt")
    dry = run(acr, "purge", "-n", server, "--filter", "faults/purge:.*", "--keep", "1", "--untagged", "--dry-run")
    real = run(acr, "purge", "-n", server, "--filter", "faults/purge:.*", "--keep", "1", "--untagged")
    planned = [(r["tagsDeleted"], r["manifestsDeleted"]) for r in json.loads(dry.stdout)["repositories"]]
    done = [(r["tagsDeleted"], r["manifestsDeleted"]) for r in json.loads(real.stdout)["repositories"]]
    assert planned == done and len(done[0][0]) == 2
    assert run(acr, "repository", "show-tags", "-n", server, "--repository", "faults/purge").json == ["t2"]


def account_track(acr: AcrRunner) -> None:
    info = acr.emulator.info
    run(acr, "login", "-n", acr.server, "--expose-token")
    run(acr, "account", "login", "--service-principal", "-u", info["clientId"], "-p", info["clientSecret"],
        "--tenant", info["tenantId"])
    assert run(acr, "account", "show").json
    result = acr("repository", "list", "-n", acr.server, env={**ENV, "ACR_IDENTITY": "account"})
    assert result.code == 0, result.stderr[-800:]
    run(acr, "account", "logout")


def test_every_command_survives_throttling_and_unavailability(throttling, unavailable, tmp_path):
    tracks = [(repository_track, unavailable), (manifest_track, throttling), (purge_track, unavailable),
              (account_track, throttling)]

    def go(index_track):
        index, (track, emulator) = index_track
        home = tmp_path / f"track{index}"
        home.mkdir()
        runner = AcrRunner(emulator, home)
        runner.timeout = 300
        track(runner)

    with ThreadPoolExecutor(len(tracks)) as pool:
        for future in [pool.submit(go, item) for item in enumerate(tracks)]:
            future.result()
