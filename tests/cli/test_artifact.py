"""``acr artifact push|pull|attach|discover`` against the emulator: oras' arguments, results and safety."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile

import requests

LAYER_TYPE = "application/vnd.unknown.layer.v1+txt"
NULL_GUID = "00000000-0000-0000-0000-000000000000"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write(acr, name: str, data: bytes | str):
    path = acr.home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


class Registry:
    """Raw /v2 access as the admin user, to look at what acr pushed or to plant hostile artifacts."""

    def __init__(self, emulator):
        self.base = emulator.url.rstrip("/")
        self.http = requests.Session()
        self.http.verify = emulator.ca_cert
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.auth = (emulator.info["adminUsername"], emulator.info["adminPassword"])
        self._tokens: dict[str, str] = {}

    def _auth(self, repo: str) -> dict:
        if repo not in self._tokens:
            challenge = requests.get(self.base + "/v2/", verify=self.http.verify).headers["WWW-Authenticate"]
            fields = dict(part.split("=", 1) for part in challenge.split(" ", 1)[1].split(","))
            fields = {k: v.strip('"') for k, v in fields.items()}
            answer = self.http.get(fields["realm"], params={"service": fields["service"],
                                                            "scope": f"repository:{repo}:pull,push,delete"})
            self._tokens[repo] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[repo]}"}

    def manifest(self, repo: str, ref: str) -> dict:
        response = requests.get(f"{self.base}/v2/{repo}/manifests/{ref}", verify=self.http.verify,
                                headers={**self._auth(repo), "Accept": "application/vnd.oci.image.manifest.v1+json"})
        response.raise_for_status()
        return response.json()

    def blob(self, repo: str, digest: str) -> bytes:
        response = requests.get(f"{self.base}/v2/{repo}/blobs/{digest}", headers=self._auth(repo),
                                verify=self.http.verify)
        response.raise_for_status()
        return response.content

    def put_blob(self, repo: str, data: bytes) -> dict:
        digest = sha256(data)
        started = requests.post(f"{self.base}/v2/{repo}/blobs/uploads/", headers=self._auth(repo),
                                verify=self.http.verify)
        location = started.headers["Location"]
        url = location if location.startswith("http") else self.base + location
        done = requests.put(url, params={"digest": digest}, data=data, verify=self.http.verify,
                            headers={**self._auth(repo), "Content-Type": "application/octet-stream"})
        assert done.status_code == 201, done.text
        return {"digest": digest, "size": len(data)}

    def put_artifact(self, repo: str, tag: str, layers: list[tuple[bytes, dict, str]]) -> str:
        config = self.put_blob(repo, b"{}")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "artifactType": "application/vnd.test", "config": {
                        "mediaType": "application/vnd.oci.empty.v1+json", **config},
                    "layers": [{"mediaType": media_type, **self.put_blob(repo, data), "annotations": annotations}
                               for data, annotations, media_type in layers]}
        body = json.dumps(manifest).encode()
        response = requests.put(f"{self.base}/v2/{repo}/manifests/{tag}", data=body, verify=self.http.verify,
                                headers={**self._auth(repo),
                                         "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        assert response.status_code == 201, response.text
        return sha256(body)


def tar_gz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return gzip.compress(raw.getvalue())


# -- push ----------------------------------------------------------------------------------------
def test_push_writes_the_manifest_oras_writes(acr, emulator):
    write(acr, "a.txt", "alpha")
    write(acr, "b.bin", b"\x00\x01")
    write(acr, "annotations.json", json.dumps({"$manifest": {"team": "blue"}, "a.txt": {"kind": "doc"}}))
    ref = f"{acr.server}/push/shape:v1,v2"
    result = acr("artifact", "push", ref, "a.txt:text/plain", "b.bin", "--artifact-type", "application/vnd.x",
                 "--annotation", "owner=me", "--annotation-file", "annotations.json")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"Pushed {acr.server}/push/shape:v1", f"Pushed {acr.server}/push/shape:v2"]
    assert lines[2] == "ArtifactType: application/vnd.x"
    digest = lines[3].split()[1]
    manifest = Registry(emulator).manifest("push/shape", "v2")
    assert sha256(json.dumps(manifest).encode()) != "" and manifest["artifactType"] == "application/vnd.x"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == ["text/plain",
                                                                    "application/vnd.oci.image.layer.v1.tar"]
    assert manifest["layers"][0]["annotations"] == {"kind": "doc", "org.opencontainers.image.title": "a.txt"}
    assert manifest["layers"][0]["digest"] == sha256(b"alpha")
    assert manifest["annotations"]["owner"] == "me" and manifest["annotations"]["team"] == "blue"
    assert "org.opencontainers.image.created" in manifest["annotations"]
    shown = acr("repository", "show", "-n", acr.server, "--image", "push/shape:v1", "--query", "digest", "-o", "tsv")
    assert shown.stdout.strip() == digest


def test_status_lines_go_to_stderr_and_known_blobs_say_exists(acr):
    write(acr, "same.txt", "same content")
    ref = f"{acr.server}/push/exists:v1"
    first = acr("artifact", "push", ref, "same.txt")
    assert first.code == 0, first.stderr
    assert f"Uploading   {sha256(b'same content')[7:19]} same.txt" in first.stderr.splitlines()
    second = acr("artifact", "push", ref, "same.txt")
    assert f"Exists      {sha256(b'same content')[7:19]} same.txt" in second.stderr.splitlines()
    assert "Uploading" not in second.stderr
    assert "\r" not in second.stderr  # no progress bar when stderr is not a terminal


def test_a_terminal_gets_a_progress_line_and_stdout_stays_clean(acr):
    import pty
    import subprocess
    import sys

    write(acr, "tty.bin", os.urandom(2 * 1024 * 1024))
    leader, follower = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "azext_acr.cli.main", "artifact", "push",
                           f"{acr.server}/push/tty:v1", "tty.bin"], env=acr.env, cwd=acr.home,
                          stdout=subprocess.PIPE, stderr=follower, timeout=120)
    os.close(follower)
    seen = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        seen += data
    os.close(leader)
    assert proc.returncode == 0
    terminal = seen.decode(errors="replace")
    assert "\r" in terminal and "Uploading [" in terminal and "MiB" in terminal
    assert proc.stdout.decode().startswith(f"Pushed {acr.server}/push/tty:v1")
    assert "\r" not in proc.stdout.decode()


def test_push_format_json_and_o_json_give_one_object(acr):
    write(acr, "j.txt", "json")
    for flag in (["--format", "json"], ["-o", "json"]):
        result = acr("artifact", "push", f"{acr.server}/push/json:v1", "j.txt", *flag)
        assert result.code == 0, result.stderr
        body = result.json
        assert {"digest", "files", "mediaType", "reference", "size"} <= set(body)
        assert body["files"][0]["title"] == "j.txt" and body["files"][0]["digest"] == sha256(b"json")


def test_blob_seen_in_another_repository_is_mounted_not_uploaded(acr):
    write(acr, "shared.bin", os.urandom(4096))
    assert acr("artifact", "push", f"{acr.server}/mount/source:v1", "shared.bin").code == 0
    result = acr("artifact", "push", f"{acr.server}/mount/target:v1", "shared.bin")
    assert result.code == 0, result.stderr
    assert "Mounted" in result.stderr and "from mount/source" in result.stderr
    assert "Uploading   " + sha256((acr.home / "shared.bin").read_bytes())[7:19] not in result.stderr
    out = acr.home / "out"
    assert acr("artifact", "pull", f"{acr.server}/mount/target:v1", "-o", str(out)).code == 0
    assert (out / "shared.bin").read_bytes() == (acr.home / "shared.bin").read_bytes()


def test_large_blob_goes_up_in_chunks_and_round_trips(acr):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    write(acr, "big.bin", payload)
    ref = f"{acr.server}/push/chunked:v1"
    pushed = acr("artifact", "push", ref, "big.bin", env={"ACR_UPLOAD_CHUNK_SIZE": str(1024 * 1024)})
    assert pushed.code == 0, pushed.stderr
    out = acr.home / "out"
    pulled = acr("artifact", "pull", ref, "-o", str(out))
    assert pulled.code == 0, pulled.stderr
    assert (out / "big.bin").read_bytes() == payload


def test_missing_file_is_one_error_line(acr):
    result = acr("artifact", "push", f"{acr.server}/push/missing:v1", "nope.txt")
    assert result.code == 1
    assert result.stderr.startswith("ERROR:") and "nope.txt" in result.stderr


# -- directories ---------------------------------------------------------------------------------
def test_directory_is_packed_as_oras_does_and_unpacked_on_pull(acr, emulator):
    write(acr, "site/index.html", "<h1>hi</h1>")
    write(acr, "site/css/main.css", "body{}")
    os.symlink("index.html", acr.home / "site" / "home.html")
    ref = f"{acr.server}/dirs/site:v1"
    pushed = acr("artifact", "push", ref, "site")
    assert pushed.code == 0, pushed.stderr
    manifest = Registry(emulator).manifest("dirs/site", "v1")
    layer = manifest["layers"][0]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert layer["annotations"]["io.deis.oras.content.unpack"] == "true"
    assert layer["annotations"]["org.opencontainers.image.title"] == "site"
    archive = Registry(emulator).blob("dirs/site", layer["digest"])
    tar_bytes = gzip.decompress(archive)
    assert layer["annotations"]["io.deis.oras.content.digest"] == sha256(tar_bytes)
    names = tarfile.open(fileobj=io.BytesIO(tar_bytes)).getnames()
    assert names[0] == "site" and all(n == "site" or n.startswith("site/") for n in names)

    out = acr.home / "out"
    pulled = acr("artifact", "pull", ref, "-o", str(out))
    assert pulled.code == 0, pulled.stderr
    assert (out / "site" / "index.html").read_text() == "<h1>hi</h1>"
    assert (out / "site" / "css" / "main.css").read_text() == "body{}"
    assert os.readlink(out / "site" / "home.html") == "index.html"
    assert sorted(os.listdir(out)) == ["site"]  # no staging left behind

    again = acr("artifact", "pull", ref, "-o", str(out))
    assert again.code == 1 and "--overwrite" in again.stderr
    assert acr("artifact", "pull", ref, "-o", str(out), "--keep-old-files").code == 0
    (out / "site" / "stale.txt").write_text("old")
    assert acr("artifact", "pull", ref, "-o", str(out), "--overwrite").code == 0
    assert not (out / "site" / "stale.txt").exists()


def test_repushing_an_unchanged_directory_reuses_its_blob(acr):
    write(acr, "tree/a.txt", "a")
    assert acr("artifact", "push", f"{acr.server}/dirs/again:v1", "tree").code == 0
    second = acr("artifact", "push", f"{acr.server}/dirs/again:v2", "tree")
    assert second.code == 0
    assert "Exists" in second.stderr and "Uploading" not in second.stderr


def hostile_archive_cases():
    escape = tarfile.TarInfo("site/../../escaped.txt")
    link_out = tarfile.TarInfo("site/link")
    link_out.type, link_out.linkname = tarfile.SYMTYPE, "../../outside"
    absolute_link = tarfile.TarInfo("site/abs")
    absolute_link.type, absolute_link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("site/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../escaped.txt"
    device = tarfile.TarInfo("site/null")
    device.type = tarfile.CHRTYPE
    return {
        "parent path": [("site/ok.txt", b"ok"), (escape.name, b"evil")],
        "absolute path": [("/tmp/acr-evil-absolute.txt", b"evil")],
        "outside the title": [("other/x.txt", b"evil")],
        "symlink out": [tarfile.TarInfo("site"), link_out],
        "absolute symlink": [absolute_link],
        "hard link out": [hard],
        "device": [device],
    }


def test_hostile_directory_archives_are_refused_and_nothing_is_written(acr, emulator):
    registry = Registry(emulator)
    for index, (case, entries) in enumerate(hostile_archive_cases().items()):
        archive = tar_gz(entries)
        annotations = {"org.opencontainers.image.title": "site", "io.deis.oras.content.unpack": "true"}
        registry.put_artifact("hostile/tar", f"c{index}",
                              [(archive, annotations, "application/vnd.oci.image.layer.v1.tar+gzip")])
        out = acr.home / f"out{index}" / "inner"
        out.mkdir(parents=True)
        result = acr("artifact", "pull", f"{acr.server}/hostile/tar:c{index}", "-o", str(out))
        assert result.code == 1, (case, result.stderr)
        assert "Refusing" in result.stderr, (case, result.stderr)
        assert os.listdir(out) == [], case
        assert os.listdir(out.parent) == ["inner"], case
    assert not os.path.exists("/tmp/acr-evil-absolute.txt")


def test_directory_whose_content_digest_lies_is_refused(acr, emulator):
    archive = tar_gz([("site/a.txt", b"a")])
    annotations = {"org.opencontainers.image.title": "site", "io.deis.oras.content.unpack": "true",
                   "io.deis.oras.content.digest": sha256(b"something else")}
    Registry(emulator).put_artifact("hostile/digest", "v1",
                                    [(archive, annotations, "application/vnd.oci.image.layer.v1.tar+gzip")])
    out = acr.home / "out"
    out.mkdir()
    result = acr("artifact", "pull", f"{acr.server}/hostile/digest:v1", "-o", str(out))
    assert result.code == 1 and "does not match" in result.stderr
    assert os.listdir(out) == []


# -- pull safety ---------------------------------------------------------------------------------
def test_malicious_titles_are_refused_with_exit_1_and_nothing_written(acr, emulator):
    registry = Registry(emulator)
    for index, title in enumerate(["../evil", "/etc/acr-evil", "a/../../evil", "..\\evil", "C:\\evil"]):
        registry.put_artifact("hostile/title", f"t{index}",
                              [(b"good", {"org.opencontainers.image.title": "good.txt"}, "text/plain"),
                               (b"evil", {"org.opencontainers.image.title": title}, "text/plain")])
        out = acr.home / f"case{index}" / "out"
        out.mkdir(parents=True)
        result = acr("artifact", "pull", f"{acr.server}/hostile/title:t{index}", "-o", str(out))
        assert result.code == 1, (title, result.stderr)
        assert result.stderr.startswith("ERROR: Refusing"), result.stderr
        assert os.listdir(out) == [] and os.listdir(out.parent) == ["out"], title
    assert not os.path.exists("/etc/acr-evil")


def test_title_through_a_symlinked_directory_is_refused(acr, emulator):
    Registry(emulator).put_artifact("hostile/symlink", "v1",
                                    [(b"evil", {"org.opencontainers.image.title": "link/evil.txt"}, "text/plain")])
    outside = acr.home / "outside"
    outside.mkdir()
    out = acr.home / "out"
    out.mkdir()
    os.symlink(outside, out / "link")
    result = acr("artifact", "pull", f"{acr.server}/hostile/symlink:v1", "-o", str(out))
    assert result.code == 1 and "Refusing" in result.stderr
    assert os.listdir(outside) == []


def test_keep_old_files_keeps_a_different_existing_file(acr):
    write(acr, "k.txt", "new")
    ref = f"{acr.server}/pull/keep:v1"
    assert acr("artifact", "push", ref, "k.txt").code == 0
    out = acr.home / "out"
    out.mkdir()
    (out / "k.txt").write_text("mine")
    result = acr("artifact", "pull", ref, "-o", str(out), "--keep-old-files")
    assert result.code == 0, result.stderr
    assert (out / "k.txt").read_text() == "mine"
    assert "Skipped" in result.stderr


def test_pull_media_type_filter_and_json(acr):
    write(acr, "t.txt", "text")
    write(acr, "b.bin", "binary")
    ref = f"{acr.server}/pull/filter:v1"
    assert acr("artifact", "push", ref, f"t.txt:{LAYER_TYPE}", "b.bin").code == 0
    out = acr.home / "out"
    result = acr("artifact", "pull", ref, "-o", str(out), "--media-type", LAYER_TYPE, "--format", "json")
    assert result.code == 0, result.stderr
    assert os.listdir(out) == ["t.txt"]
    assert [f["title"] for f in result.json["files"]] == ["t.txt"]


def test_corrupted_blob_is_not_renamed_into_place(acr, emulator):
    registry = Registry(emulator)
    real = registry.put_blob("hostile/corrupt", b"the real bytes")
    config = registry.put_blob("hostile/corrupt", b"{}")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", **config},
                "layers": [{"mediaType": "text/plain", "digest": real["digest"], "size": 99,
                            "annotations": {"org.opencontainers.image.title": "x.txt"}}]}
    body = json.dumps(manifest).encode()
    requests.put(f"{registry.base}/v2/hostile/corrupt/manifests/v1", data=body, verify=registry.http.verify,
                 headers={**registry._auth("hostile/corrupt"),
                          "Content-Type": "application/vnd.oci.image.manifest.v1+json"}).raise_for_status()
    out = acr.home / "out"
    result = acr("artifact", "pull", f"{acr.server}/hostile/corrupt:v1", "-o", str(out))
    assert result.code == 0  # the size in a descriptor is advisory; the digest is what is checked
    assert (out / "x.txt").read_bytes() == b"the real bytes"


# -- attach and discover -------------------------------------------------------------------------
def test_attach_and_discover_as_oras_does(acr, emulator):
    write(acr, "app.txt", "app")
    ref = f"{acr.server}/refs/app:v1"
    pushed = acr("artifact", "push", ref, "app.txt")
    subject = pushed.stdout.splitlines()[-1].split()[1]
    write(acr, "sig.txt", "signature")
    write(acr, "sbom.json", "{}")
    attached = acr("artifact", "attach", ref, "--artifact-type", "application/vnd.example.sig", "sig.txt")
    assert attached.code == 0, attached.stderr
    assert attached.stdout.splitlines()[0] == f"Attached to {acr.server}/refs/app@{subject}"
    sig_digest = attached.stdout.splitlines()[1].split()[1]
    manifest = Registry(emulator).manifest("refs/app", sig_digest)
    assert manifest["subject"]["digest"] == subject
    assert manifest["artifactType"] == "application/vnd.example.sig"
    sbom = acr("artifact", "attach", ref, "sbom.json", "--artifact-type", "application/spdx+json", "-o", "json")
    assert sbom.code == 0, sbom.stderr
    sbom_digest = sbom.json["digest"]
    on_sig = acr("artifact", "attach", f"{acr.server}/refs/app@{sig_digest}", "--artifact-type",
                 "application/vnd.example.countersig", "--annotation", "by=me")
    assert on_sig.code == 0, on_sig.stderr
    counter = on_sig.stdout.splitlines()[1].split()[1]

    tree = acr("artifact", "discover", ref)
    assert tree.code == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert lines[0] == f"{acr.server}/refs/app@{subject}"
    text = "\n".join(lines)
    assert "application/vnd.example.sig" in text and "application/spdx+json" in text
    assert f"── {sig_digest}" in text and f"── {counter}" in text
    assert text.index(counter) > text.index(sig_digest)

    as_json = acr("artifact", "discover", ref, "--format", "json")
    body = as_json.json
    assert body["digest"] == subject
    by_digest = {m["digest"]: m for m in body["manifests"]}
    assert set(by_digest) == {sig_digest, sbom_digest}
    assert by_digest[sig_digest]["manifests"][0]["digest"] == counter

    only_sig = acr("artifact", "discover", ref, "--artifact-type", "application/vnd.example.sig", "-o", "json")
    assert [m["digest"] for m in only_sig.json["manifests"]] == [sig_digest]

    table = acr("artifact", "discover", ref, "--format", "table")
    assert table.code == 0, table.stderr
    rows = table.stdout.splitlines()
    assert rows[0] == f"Discovered 2 artifacts referencing {acr.server}/refs/app@{subject}"
    assert rows[1].split() == ["Digest", "Artifact", "Type", "Size"]
    assert sorted(row.split()[:2] for row in rows[2:]) == sorted(
        [[sig_digest, "application/vnd.example.sig"], [sbom_digest, "application/spdx+json"]])
    assert acr("artifact", "discover", ref, "--format", "tree").stdout == tree.stdout


def test_attach_needs_an_artifact_type(acr):
    result = acr("artifact", "attach", f"{acr.server}/refs/app:v1", "x.txt")
    assert result.code == 2 and "--artifact-type" in result.stderr


def test_password_stdin_with_the_admin_user(acr, emulator):
    write(acr, "p.txt", "p")
    result = acr("artifact", "push", f"{acr.server}/creds/admin:v1", "p.txt", "-u",
                 emulator.info["adminUsername"], "--password-stdin", input=emulator.info["adminPassword"] + "\n",
                 env={"AZURE_CLIENT_SECRET": "wrong"})
    assert result.code == 0, result.stderr


def test_refresh_token_in_the_docker_config_is_used(acr):
    token = acr("login", "-n", acr.server, "--expose-token").json["refreshToken"]
    acr.docker_config.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{NULL_GUID}:{token}".encode()).decode()
    acr.config_file.write_text(json.dumps({"auths": {acr.server: {"auth": auth}}}))
    write(acr, "d.txt", "d")
    result = acr("artifact", "push", f"{acr.server}/creds/docker:v1", "d.txt",
                 env={"AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None})
    assert result.code == 0, result.stderr
