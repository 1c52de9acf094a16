"""The seed workflow end to end: AAD sign-in → acr login → push → show → pull → delete."""

from __future__ import annotations

import base64
import os
import stat

NULL_GUID = "00000000-0000-0000-0000-000000000000"
LAYER_TYPE = "application/vnd.unknown.layer.v1+txt"


def push_sample(acr, ref: str, content: str = "Here is an artifact!\n", name: str = "artifact.txt"):
    (acr.home / name).write_text(content)
    return acr("artifact", "push", ref, "--manifest-config", "/dev/null:application/vnd.unknown.config.v1+json",
               f"./{name}:{LAYER_TYPE}")


def test_login_writes_refresh_token_to_docker_config_with_mode_0600(acr):
    result = acr("login", "-n", acr.server)
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    entry = __import__("json").loads(acr.config_file.read_text())["auths"][acr.server]
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    assert user == NULL_GUID
    assert password == entry["identitytoken"] and entry["identitytoken"].count(".") == 2
    assert stat.S_IMODE(os.stat(acr.config_file).st_mode) == 0o600


def test_seed_workflow_push_show_pull_delete(acr):
    assert acr("login", "-n", acr.server).code == 0
    ref = f"{acr.server}/samples/artifact:1.0"

    pushed = push_sample(acr, ref)
    assert pushed.code == 0, pushed.stderr
    lines = pushed.stdout.splitlines()
    assert lines[0] == f"Pushed {ref}"
    assert lines[-1].startswith("Digest: sha256:")
    digest = lines[-1].split()[1]
    assert "Uploading" in pushed.stderr and "artifact.txt" in pushed.stderr

    shown = acr("repository", "show", "-n", acr.server, "--image", "samples/artifact:1.0")
    assert shown.code == 0, shown.stderr
    tag = shown.json
    assert sorted(tag) == ["changeableAttributes", "createdTime", "digest", "lastUpdateTime", "name", "signed"]
    assert tag["digest"] == digest and tag["name"] == "1.0"
    assert list(shown.stdout.splitlines()[1].strip().split(":")[0:1]) == ['"changeableAttributes"']

    (acr.home / "artifact.txt").unlink()
    pulled = acr("artifact", "pull", ref, "--media-type", LAYER_TYPE)
    assert pulled.code == 0, pulled.stderr
    assert (acr.home / "artifact.txt").read_text() == "Here is an artifact!\n"
    assert pulled.stdout.splitlines() == [f"Pulled {ref}", f"Digest: {digest}"]

    deleted = acr("repository", "delete", "-n", acr.server, "--image", "samples/artifact:1.0", "--yes")
    assert deleted.code == 0, deleted.stderr
    assert deleted.stdout == ""
    assert digest in deleted.stderr

    gone = acr("repository", "show", "-n", acr.server, "--image", "samples/artifact:1.0")
    assert gone.code == 3
    assert gone.stdout == ""
    assert "ERROR" in gone.stderr


def test_query_and_tsv_give_scripts_just_the_digest(acr):
    ref = f"{acr.server}/scripts/digest:v1"
    pushed = push_sample(acr, ref)
    digest = pushed.stdout.splitlines()[-1].split()[1]
    shown = acr("repository", "show", "-n", acr.server, "--image", "scripts/digest:v1", "--query", "digest",
                "-o", "tsv")
    assert shown.stdout == digest + "\n"


def test_push_with_format_json_prints_one_json_object(acr):
    (acr.home / "a.txt").write_text("a")
    result = acr("artifact", "push", f"{acr.server}/json/out:v1", "./a.txt", "--format", "json")
    assert result.code == 0, result.stderr
    body = result.json
    assert body["digest"].startswith("sha256:") and body["reference"] == f"{acr.server}/json/out:v1"


def test_commands_work_without_login_through_the_aad_chain(acr):
    result = push_sample(acr, f"{acr.server}/nologin/artifact:1")
    assert result.code == 0, result.stderr
    assert not acr.config_file.exists()


def test_unknown_tag_exits_3(acr):
    push_sample(acr, f"{acr.server}/known/repo:v1")
    result = acr("repository", "show", "-n", acr.server, "--image", "known/repo:nope")
    assert result.code == 3
    assert "tag" in result.stderr.lower()


def test_expose_token_prints_the_refresh_token_and_touches_no_file(acr):
    result = acr("login", "-n", acr.server, "--expose-token")
    assert result.code == 0, result.stderr
    body = result.json
    assert body["loginServer"] == acr.server and body["username"] == NULL_GUID
    assert body["accessToken"] == body["refreshToken"]
    assert not acr.config_file.exists()


def test_pulled_file_with_different_existing_content_is_not_overwritten(acr):
    ref = f"{acr.server}/safety/overwrite:v1"
    push_sample(acr, ref, content="new")
    (acr.home / "artifact.txt").write_text("precious")
    result = acr("artifact", "pull", ref)
    assert result.code == 1 and "--overwrite" in result.stderr
    assert (acr.home / "artifact.txt").read_text() == "precious"
    assert acr("artifact", "pull", ref, "--overwrite").code == 0
    assert (acr.home / "artifact.txt").read_text() == "new"
