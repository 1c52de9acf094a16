"""The same workflow against a plain OCI registry: Debian's docker-registry, no ACR extensions."""

from __future__ import annotations


def test_push_and_pull_round_trip_on_docker_registry(acr, docker_registry, tmp_path):
    env = {"ACR_PLAIN_HTTP": "1"}
    ref = f"{docker_registry.login_server}/plain/artifact:v1"
    payload = bytes(range(256)) * 1000
    (acr.home / "blob.bin").write_bytes(payload)
    pushed = acr("artifact", "push", ref, "./blob.bin:application/octet-stream", env=env)
    assert pushed.code == 0, pushed.stderr
    out = tmp_path / "out"
    pulled = acr("artifact", "pull", ref, "-o", str(out), env=env)
    assert pulled.code == 0, pulled.stderr
    assert (out / "blob.bin").read_bytes() == payload
    assert pulled.stdout.splitlines()[-1] == pushed.stdout.splitlines()[-1]
