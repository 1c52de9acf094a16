"""Fault injection: throttled/unavailable answers with Retry-After, latency, and faults that change nothing."""

from __future__ import annotations

import re
import socket
import time

from acrtest import AcrRunner
from emulator_helpers import OCI_MANIFEST, make_registry


def test_every_data_request_faults_with_retry_after_but_tokens_and_health_do_not(launch):
    emu = launch("--fault-rate", "1", "--fault-status", "429", "--no-tls")
    registry = make_registry(emu)
    response = registry.request("GET", "/v2/", auth=registry.admin)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert registry.request("GET", "/acr/v1/_catalog", auth=registry.admin).status_code == 429
    assert registry.request("GET", "/health").status_code == 200
    token = registry.token("repository:any/repo:pull")  # the token service is not faulted
    assert token.count(".") == 2


def test_fault_auth_also_faults_the_token_service(launch):
    emu = launch("--fault-rate", "1", "--fault-auth", "--fault-retry-after", "0", "--in-memory")
    registry = make_registry(emu)
    response = registry.request("GET", "/oauth2/token", params={"service": emu.login_server}, auth=registry.admin)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "0"
    assert response.json()["errors"][0]["code"] == "UNAVAILABLE"


def test_latency_delays_each_data_request(launch):
    emu = launch("--latency-ms", "200", "--no-tls")
    registry = make_registry(emu)
    started = time.perf_counter()
    assert registry.request("GET", "/v2/", auth=registry.admin).status_code == 200
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    registry.request("GET", "/health")
    assert time.perf_counter() - started < 0.2


def test_a_faulted_request_changes_nothing(tmp_path, launch):
    data_dir = tmp_path / "data"
    clean = launch(data_dir=data_dir)
    registry = make_registry(clean)
    digest, _ = registry.push_image("faults/nothing", "v1")
    clean.stop()

    faulty = launch("--fault-rate", "1", "--fault-methods", "PUT,DELETE,PATCH", data_dir=data_dir)
    registry = make_registry(faulty)
    auth = registry.bearer("repository:faults/nothing:pull,push,delete")
    manifest = registry.request("GET", "/v2/faults/nothing/manifests/v1", headers=auth).content
    assert registry.request(
        "PUT", "/v2/faults/nothing/manifests/v2", data=manifest, headers={**auth, "Content-Type": OCI_MANIFEST}
    ).status_code == 503
    assert registry.request("DELETE", f"/v2/faults/nothing/manifests/{digest}", headers=auth).status_code == 503
    assert registry.request("PATCH", "/acr/v1/faults/nothing", json={"writeEnabled": False}, auth=registry.admin
                            ).status_code == 503
    # --fault-methods spares GET, so the state can be read through the faulty emulator itself
    tags = registry.request("GET", "/acr/v1/faults/nothing/_tags", auth=registry.admin).json()["tags"]
    assert [t["name"] for t in tags] == ["v1"]
    repo = registry.request("GET", "/acr/v1/faults/nothing", auth=registry.admin).json()
    assert repo["changeableAttributes"]["writeEnabled"] is True


SEED_STEPS = (
    ("login",),
    ("artifact", "push"),
    ("repository", "show"),
    ("artifact", "pull"),
    ("repository", "delete"),
)


def _seed_workflow(acr: AcrRunner, repo: str) -> list[tuple[str, object]]:
    """Run login → push → show → pull → delete; return (step, result) up to the first failure."""
    server = acr.server
    ref = f"{server}/{repo}:1.0"
    (acr.home / "artifact.txt").write_text("Here is an artifact!\n")
    commands = [
        ("login", "-n", server),
        ("artifact", "push", ref, "./artifact.txt:application/vnd.unknown.layer.v1+txt"),
        ("repository", "show", "-n", server, "--image", f"{repo}:1.0"),
        ("artifact", "pull", ref, "-o", "pulled"),
        ("repository", "delete", "-n", server, "--image", f"{repo}:1.0", "--yes"),
    ]
    results = []
    for command in commands:
        result = acr(*command, env={"ACR_RETRY_BACKOFF": "0.05", "ACR_MAX_RETRIES": "8"})
        results.append((" ".join(command[:2]), result))
        if result.code != 0:
            break
    return results


def test_seed_workflow_passes_with_faults_on_idempotent_requests(launch, tmp_path):
    emu = launch("--fault-rate", "0.2", "--latency-ms", "100", "--fault-retry-after", "0",
                 "--fault-methods", "GET,HEAD,PUT,DELETE")
    acr = AcrRunner(emu, tmp_path)
    results = _seed_workflow(acr, "faults/idempotent")
    for step, result in results:
        assert result.code == 0, f"{step}: {result.stderr}"
    assert len(results) == len(SEED_STEPS)
    assert (tmp_path / "pulled" / "artifact.txt").read_text() == "Here is an artifact!\n"
    assert any(re.search(r" (GET|HEAD|PUT|DELETE) \S+ 503 ", line) for line in emu.stderr_lines)


def test_seed_workflow_with_faults_on_every_request(launch, tmp_path):
    """20% 503s on every /v2 and /acr/v1 request, POST and PATCH of uploads included: a PATCH that
    got a 503 is not resent with a consumed body; the upload resumes from the registry's offset."""
    emu = launch("--fault-rate", "0.2", "--latency-ms", "100", "--fault-retry-after", "0", "--body-timeout", "3")
    acr = AcrRunner(emu, tmp_path)
    results = _seed_workflow(acr, "faults/everything")
    for step, result in results:
        assert result.code == 0, f"{step}: {result.stderr}"
    assert len(results) == len(SEED_STEPS)
    assert (tmp_path / "pulled" / "artifact.txt").read_text() == "Here is an artifact!\n"
    assert not [line for line in emu.stderr_lines if re.search(r" PATCH /v2/\S+ 400 ", line)]


def test_a_stalled_request_body_gets_400_after_the_body_timeout(launch):
    emu = launch("--no-tls", "--body-timeout", "1")
    registry = make_registry(emu)
    auth = registry.bearer("repository:faults/stalled:push,pull")
    location = registry.request("POST", "/v2/faults/stalled/blobs/uploads/", headers=auth).headers["Location"]
    with socket.create_connection(("127.0.0.1", emu.info["port"]), timeout=10) as sock:
        sock.sendall(
            f"PATCH {location} HTTP/1.1\r\nHost: {emu.login_server}\r\n{'Authorization'}: {auth['Authorization']}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nabc".encode()
        )
        started = time.perf_counter()
        answer = ""
        while "BLOB_UPLOAD_INVALID" not in answer:
            received = sock.recv(65536).decode()
            if not received:
                break
            answer += received
    assert answer.startswith("HTTP/1.1 400 ") and "BLOB_UPLOAD_INVALID" in answer
    assert 0.9 <= time.perf_counter() - started < 5
    status = registry.request("GET", location, headers=auth)
    assert status.status_code == 204 and status.headers["Range"] == "0-2"  # the bytes that did arrive
