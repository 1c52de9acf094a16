"""The repository and manifest commands on a registry without /acr/v1: Debian's docker-registry,
without auth and with htpasswd Basic auth. ACR-only fields are left out; ACR-only commands say so."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

PLAIN = {"ACR_PLAIN_HTTP": "1", "AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None, "AZURE_TENANT_ID": None}
LAYER_TYPE = "application/vnd.unknown.layer.v1+txt"
USER, PASSWORD = "alice", "s3cret-for-tests"


@pytest.fixture
def fixtures(request):
    """The server helpers of tests/servers.py (start_emulator, start_docker_registry, require_peer, ...)."""
    import servers

    return servers


@pytest.fixture
def basic_registry(fixtures, tmp_path):
    """docker-registry behind a bcrypt htpasswd file made by Debian's htpasswd."""
    htpasswd = fixtures.require_peer("htpasswd")
    path = tmp_path / "htpasswd"
    subprocess.run([htpasswd, "-Bbc", str(path), USER, PASSWORD], check=True, capture_output=True)
    registry = fixtures.start_docker_registry(tmp_path / "basic-registry", htpasswd=path)
    yield registry
    registry.process.terminate()
    registry.process.wait(timeout=10)


def run(acr, *args, auth=()):
    return acr(*args, *auth, env=PLAIN)


def push(acr, ref: str, content: str = "payload\n", auth=()) -> str:
    name = f"f{abs(hash((ref, content))) % 10**8}.txt"
    (acr.home / name).write_text(content)
    result = acr("artifact", "push", ref, f"./{name}:{LAYER_TYPE}", "--format", "json", *auth, env=PLAIN)
    assert result.code == 0, result.stderr
    return result.json["digest"]


def exercise(acr, server: str, auth=()) -> None:
    """Every command, through /v2 only."""
    first = push(acr, f"{server}/plain/app:v1,v2", auth=auth)
    second = push(acr, f"{server}/plain/app:v3", content="three\n", auth=auth)
    push(acr, f"{server}/plain/other:v1", auth=auth)

    assert run(acr, "repository", "list", "-n", server, auth=auth).json == ["plain/app", "plain/other"]
    assert run(acr, "repository", "list", "-n", server, "--top", "1", auth=auth).json == ["plain/app"]
    assert run(acr, "repository", "show-tags", "-n", server, "--repository", "plain/app",
               auth=auth).json == ["v1", "v2", "v3"]
    detail = run(acr, "repository", "show-tags", "-n", server, "--repository", "plain/app", "--detail", "--top", "2",
                 auth=auth)
    assert detail.json == [{"digest": first, "name": "v1"}, {"digest": first, "name": "v2"}]
    ordered = run(acr, "repository", "show-tags", "-n", server, "--repository", "plain/app", "--orderby",
                  "time_desc", auth=auth)
    assert ordered.code == 0 and "--orderby is ignored" in ordered.stderr

    repo = run(acr, "repository", "show", "-n", server, "--repository", "plain/app", auth=auth)
    assert repo.json == {"imageName": "plain/app", "registry": server, "tagCount": 3}
    tag = run(acr, "repository", "show", "-n", server, "--image", "plain/app:v3", auth=auth)
    assert tag.json == {"digest": second, "name": "v3"}
    manifest = run(acr, "manifest", "show-metadata", f"{server}/plain/app@{first}", auth=auth)
    assert manifest.json == {"digest": first, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "tags": ["v1", "v2"]}
    assert run(acr, "repository", "show", "-n", server, "--image", "plain/app:nope", auth=auth).code == 3
    assert run(acr, "manifest", "show", f"{server}/plain/app:nope", auth=auth).code == 3

    metadata = run(acr, "manifest", "list-metadata", "-r", server, "-n", "plain/app", auth=auth)
    assert [(item["digest"], item["tags"]) for item in metadata.json] == sorted(
        [(first, ["v1", "v2"]), (second, ["v3"])])
    documents = run(acr, "manifest", "list", f"{server}/plain/app", auth=auth)
    assert len(documents.json) == 2 and all(doc["schemaVersion"] == 2 for doc in documents.json)
    raw = run(acr, "manifest", "show", f"{server}/plain/app:v1", "--raw", auth=auth)
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == first
    assert run(acr, "manifest", "list-referrers", f"{server}/plain/app:v1", auth=auth).json == {"manifests": []}

    for args in (["repository", "update", "-n", server, "--image", "plain/app:v1", "--write-enabled", "false"],
                 ["manifest", "update-metadata", f"{server}/plain/app:v1", "--delete-enabled", "false"]):
        refused = run(acr, *args, auth=auth)
        assert refused.code == 1
        command = " ".join(args[:2])
        assert refused.stderr.strip().splitlines()[-1] == (
            f"ERROR: 'acr {command}' requires Azure Container Registry's metadata API (/acr/v1), which "
            f"'{server}' does not serve.")
    untag = run(acr, "repository", "untag", "-n", server, "--image", "plain/app:v1", auth=auth)
    assert untag.code == 1 and "cannot remove a tag and keep its manifest" in untag.stderr

    plan = run(acr, "repository", "delete", "-n", server, "--image", "plain/app:v2", "--dry-run", auth=auth)
    assert plan.json == {"dryRun": True, "manifests": [first], "registry": server, "repository": "plain/app",
                         "tags": ["v1", "v2"]}
    deleted = run(acr, "repository", "delete", "-n", server, "--image", "plain/app:v2", "--yes", auth=auth)
    assert deleted.code == 0, deleted.stderr
    assert "'plain/app:v1', 'plain/app:v2'" in deleted.stderr
    assert run(acr, "manifest", "delete", f"{server}/plain/app:v3", "--yes", auth=auth).code == 0
    whole = run(acr, "repository", "delete", "-n", server, "--repository", "plain/other", "--yes", auth=auth)
    assert whole.code == 0, whole.stderr
    assert whole.json["tagsDeleted"] == ["v1"] and len(whole.json["manifestsDeleted"]) == 1


def test_every_command_works_on_docker_registry_without_auth(acr, docker_registry):
    exercise(acr, docker_registry.login_server)


def test_every_command_works_on_docker_registry_with_basic_auth(acr, basic_registry):
    exercise(acr, basic_registry.login_server, auth=("-u", USER, "-p", PASSWORD))


def test_basic_auth_failures_are_clear(acr, basic_registry):
    server = basic_registry.login_server
    wrong = run(acr, "repository", "list", "-n", server, auth=("-u", USER, "-p", "wrong"))
    assert wrong.code == 1
    assert wrong.stderr.splitlines()[-1].startswith("ERROR: Error: authentication required")
    anonymous = run(acr, "repository", "list", "-n", server)
    assert anonymous.code == 1 and anonymous.stderr.splitlines()[-1].startswith("ERROR: ")


def test_referrers_come_from_the_tag_schema_when_the_registry_has_no_referrers_api(acr, docker_registry,
                                                                                   monkeypatch):
    """docker-registry 2.8 answers 404 on /referrers; OCI 1.1 clients then read the sha256-<hex> index tag."""
    from azext_acr.registry import connect
    from azext_acr.registry.credentials import resolve_credential

    server = docker_registry.login_server
    subject = push(acr, f"{server}/refs/app:v1")
    monkeypatch.setenv("ACR_PLAIN_HTTP", "1")
    client = connect(server, resolve_credential(server, None, None))

    def descriptor(tag: str, artifact_type: str) -> dict:
        digest = push(acr, f"{server}/refs/app:{tag}", content=tag)
        head = client.oci.head_manifest("refs/app", digest)
        return {"artifactType": artifact_type, "digest": digest, "mediaType": head["mediaType"],
                "size": head["size"]}

    signature = descriptor("sig", "application/vnd.cncf.notary.signature")
    sbom = descriptor("sbom", "application/spdx+json")
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [signature, sbom]}).encode()
    client.oci.put_manifest("refs/app", "sha256-" + subject.split(":")[1], index,
                            "application/vnd.oci.image.index.v1+json")
    every = run(acr, "manifest", "list-referrers", f"{server}/refs/app:v1")
    assert every.json == {"manifests": [signature, sbom]}
    signatures = run(acr, "manifest", "list-referrers", f"{server}/refs/app:v1", "--artifact-type",
                     "application/vnd.cncf.notary.signature")
    assert signatures.json == {"manifests": [signature]}


class _Misbehaving:
    """A registry on loopback that answers what real ones sometimes do: a classic ACR (405 on
    /acr/v1 tag listings) whose catalog's second page fails and whose tag chain loops."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                path = self.path
                if path == "/v2/":
                    return self._send(200, {})
                if path.startswith("/v2/_catalog"):
                    if "last=" in path:
                        return self._send(500, {"errors": [{"code": "UNKNOWN", "message": "storage exploded"}]})
                    return self._send(200, {"repositories": ["a", "b"]}, link="</v2/_catalog?last=b&n=100>")
                if path.startswith("/acr/v1/classic/_tags"):
                    return self._send(405, {"errors": [{"code": "UNSUPPORTED", "message": "not on classic"}]})
                if path.startswith("/v2/classic/tags/list"):
                    return self._send(200, {"name": "classic", "tags": ["1", "2"]})
                if path.startswith("/v2/loop/tags/list"):
                    return self._send(200, {"name": "loop", "tags": ["x"]}, link="</v2/loop/tags/list?n=100>")
                if path.startswith("/acr/v1/"):
                    self.send_response(404)
                    self.end_headers()
                    return None
                return self._send(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]})

            def _send(self, status, body, link=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if link:
                    self.send_header("Link", f'{link}; rel="next"')
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.login_server = f"localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def misbehaving():
    registry = _Misbehaving()
    yield registry
    registry.close()


def test_a_failed_later_page_fails_the_listing_and_names_the_page(acr, misbehaving):
    result = run(acr, "repository", "list", "-n", misbehaving.login_server)
    assert result.code == 1 and result.stdout == ""
    error = result.stderr.strip().splitlines()[-1]
    assert "storage exploded" in error and "/v2/_catalog?last=b" in error


def test_a_looping_link_chain_fails_loudly(acr, misbehaving):
    result = run(acr, "repository", "show-tags", "-n", misbehaving.login_server, "--repository", "loop")
    assert result.code == 1 and result.stdout == ""
    assert "repeats an earlier page" in result.stderr


def test_classic_registry_falls_back_to_the_v2_tag_list_with_az_warnings(acr, misbehaving):
    result = run(acr, "repository", "show-tags", "-n", misbehaving.login_server, "--repository", "classic",
                 "--detail", "--top", "1", "--orderby", "time_desc")
    assert result.code == 0, result.stderr
    assert result.json == ["1", "2"]
    assert [line for line in result.stderr.splitlines() if line.startswith("WARNING")] == [
        f"WARNING: The specified {flag} is ignored as it is only supported for managed registries."
        for flag in ("--detail", "--top", "--orderby")]
