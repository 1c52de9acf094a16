"""``acr repository`` against the emulator: az's JSON shapes, tables, prompts, locks, pages and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

LAYER_TYPE = "application/vnd.unknown.layer.v1+txt"
TAG_KEYS = ["changeableAttributes", "createdTime", "digest", "lastUpdateTime", "name", "signed"]
REPOSITORY_KEYS = ["changeableAttributes", "createdTime", "imageName", "lastUpdateTime", "manifestCount",
                   "registry", "tagCount"]
ATTRIBUTE_KEYS = ["deleteEnabled", "listEnabled", "readEnabled", "writeEnabled"]
NO_TTY = "Unable to prompt for confirmation as no tty available. Use --yes."


@pytest.fixture
def fixtures(request):
    """The server helpers of tests/servers.py (start_emulator, start_docker_registry, require_peer, ...)."""
    import servers

    return servers


def push(acr, ref: str, content: str = "payload\n") -> str:
    name = f"f{abs(hash(ref)) % 10**8}.txt"
    (acr.home / name).write_text(content)
    result = acr("artifact", "push", ref, f"./{name}:{LAYER_TYPE}", "--format", "json")
    assert result.code == 0, result.stderr
    return result.json["digest"]


def sorted_json(result) -> bool:
    """az prints JSON with sorted keys and two-space indents; so must we."""
    return result.stdout == json.dumps(result.json, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def tag_many(emulator, repository: str, source_tag: str, count: int, monkeypatch) -> None:
    """Give one manifest ``count`` more tags cheaply: PUT the same bytes under each tag (one keep-alive session)."""
    from azext_acr.registry import connect
    from azext_acr.registry.credentials import UsernamePasswordCredential

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_cert)
    registry = connect(emulator.login_server, UsernamePasswordCredential(emulator.info["adminUsername"],
                                                                          emulator.info["adminPassword"]))
    registry.session.ping()
    manifest = registry.oci.get_manifest(repository, source_tag)
    for index in range(count):
        registry.oci.put_manifest(repository, f"t{index:04d}", manifest.content, manifest.media_type)
    registry.close()


def test_list_prints_names_as_json_table_and_tsv(acr):
    push(acr, f"{acr.server}/listing/alpha:v1")
    push(acr, f"{acr.server}/listing/beta:v1")
    result = acr("repository", "list", "-n", acr.server)
    assert result.code == 0, result.stderr
    assert {"listing/alpha", "listing/beta"} <= set(result.json)
    assert result.json == sorted(result.json)
    table = acr("repository", "list", "-n", acr.server, "-o", "table")
    assert table.stdout.splitlines()[0].strip() == "Result"
    assert "listing/alpha" in table.stdout.splitlines()[2:]
    tsv = acr("repository", "list", "-n", acr.server, "-o", "tsv")
    assert tsv.stdout.splitlines() == result.json
    top = acr("repository", "list", "-n", acr.server, "--top", "1")
    assert top.json == result.json[:1]


def test_show_repository_tag_and_manifest_have_az_fields_in_sorted_order(acr):
    digest = push(acr, f"{acr.server}/shapes/app:v1")
    repo = acr("repository", "show", "-n", acr.server, "--repository", "shapes/app")
    assert repo.code == 0, repo.stderr
    assert sorted(repo.json) == REPOSITORY_KEYS and sorted_json(repo)
    assert repo.json["imageName"] == "shapes/app" and repo.json["tagCount"] == 1
    assert sorted(repo.json["changeableAttributes"]) == ATTRIBUTE_KEYS

    tag = acr("repository", "show", "-n", acr.server, "--image", "shapes/app:v1")
    assert sorted(tag.json) == TAG_KEYS and sorted_json(tag)
    assert tag.json["digest"] == digest

    manifest = acr("repository", "show", "-n", acr.server, "-t", f"shapes/app@{digest}")
    assert manifest.code == 0, manifest.stderr
    assert {"changeableAttributes", "createdTime", "digest", "imageSize", "lastUpdateTime", "mediaType",
            "tags"} <= set(manifest.json)
    assert manifest.json["tags"] == ["v1"] and sorted_json(manifest)


def test_show_needs_exactly_one_of_image_or_repository(acr):
    for extra in ([], ["--image", "a:b", "--repository", "a"]):
        result = acr("repository", "show", "-n", acr.server, *extra)
        assert result.code == 1
        assert result.stderr.strip() == ("ERROR: Usage error: You need to provide either --image IMAGE | "
                                         "--repository REPOSITORY, but not both")


def test_missing_items_exit_3_on_show_but_1_on_listings(acr):
    push(acr, f"{acr.server}/missing/app:v1")
    for args in (["--repository", "missing/nothing"], ["--image", "missing/app:nope"],
                 ["--image", "missing/app@sha256:" + "0" * 64]):
        result = acr("repository", "show", "-n", acr.server, *args)
        assert result.code == 3, (args, result)
        assert result.stdout == "" and result.stderr.startswith("ERROR: ")
    tags = acr("repository", "show-tags", "-n", acr.server, "--repository", "missing/nothing")
    assert tags.code == 1 and tags.stderr.startswith("ERROR: ")


def test_show_tags_names_detail_table_tsv_top_and_orderby(acr):
    digest = push(acr, f"{acr.server}/tags/app:b")
    for tag in ("a", "c"):
        push(acr, f"{acr.server}/tags/app:{tag}", content=f"{tag}\n")
    names = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app")
    assert names.json == ["a", "b", "c"]
    detail = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app", "--detail")
    assert [sorted(item) for item in detail.json] == [TAG_KEYS] * 3 and sorted_json(detail)
    assert detail.json[1]["digest"] == digest
    table = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app", "--detail", "-o", "table")
    assert table.stdout.splitlines()[0].split() == ["CreatedTime", "Digest", "LastUpdateTime", "Name", "Signed"]
    tsv = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app", "--detail", "-o", "tsv")
    first = tsv.stdout.splitlines()[0].split("\t")
    assert first[0] == "" and digest not in first  # nested changeableAttributes → empty first field, as az
    newest = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app", "--top", "2",
                 "--orderby", "time_desc")
    assert newest.json == ["c", "a"]
    oldest = acr("repository", "show-tags", "-n", acr.server, "--repository", "tags/app", "--orderby", "TIME_ASC")
    assert oldest.json == ["b", "a", "c"]


def test_listings_follow_every_page_and_top_spans_pages(acr, monkeypatch):
    push(acr, f"{acr.server}/paged/app:seed")
    tag_many(acr.emulator, "paged/app", "seed", 250, monkeypatch)
    everything = acr("repository", "show-tags", "-n", acr.server, "--repository", "paged/app", "--debug")
    assert everything.code == 0
    assert len(everything.json) == 251 and len(set(everything.json)) == 251
    pages = [line for line in everything.stderr.splitlines() if "Request: GET" in line and "/_tags" in line]
    assert len(pages) == 3, pages
    top = acr("repository", "show-tags", "-n", acr.server, "--repository", "paged/app", "--top", "150", "--debug")
    assert top.json == everything.json[:150]
    requests_made = [line for line in top.stderr.splitlines() if "Request: GET" in line and "/_tags" in line]
    assert len(requests_made) == 2 and "n=100" in requests_made[0] and "n=50" in requests_made[1]
    metadata = acr("repository", "show-manifests", "-n", acr.server, "--repository", "paged/app", "--detail")
    assert len(metadata.json) == 1 and len(metadata.json[0]["tags"]) == 251


def test_show_manifests_is_deprecated_hidden_and_reshaped_like_az(acr):
    digest = push(acr, f"{acr.server}/oldstyle/app:v1")
    result = acr("repository", "show-manifests", "-n", acr.server, "--repository", "oldstyle/app")
    assert result.code == 0, result.stderr
    assert ("WARNING: This command has been deprecated and will be removed in a future release. "
            "Use 'acr manifest list-metadata' instead.") in result.stderr
    [item] = result.json
    assert sorted(item) == ["digest", "tags", "timestamp"]
    assert item["digest"] == digest and item["tags"] == ["v1"] and item["timestamp"].startswith("20")
    table = acr("repository", "show-manifests", "-n", acr.server, "--repository", "oldstyle/app", "-o", "table")
    assert table.stdout.splitlines()[0].split() == ["Digest", "Timestamp"]
    assert "show-manifests" not in acr("repository", "--help").stdout


def test_update_patches_only_the_given_flags_and_without_flags_shows(acr):
    push(acr, f"{acr.server}/locks/app:v1")
    shown = acr("repository", "update", "-n", acr.server, "--repository", "locks/app")
    assert shown.code == 0 and sorted(shown.json) == REPOSITORY_KEYS
    updated = acr("repository", "update", "-n", acr.server, "--image", "locks/app:v1", "--write-enabled", "false",
                  "--list-enabled")
    assert updated.code == 0, updated.stderr
    assert updated.json["changeableAttributes"] == {"deleteEnabled": True, "listEnabled": True,
                                                    "readEnabled": True, "writeEnabled": False}
    assert sorted(updated.json) == TAG_KEYS
    missing = acr("repository", "update", "-n", acr.server, "--repository", "locks/none")
    assert missing.code == 1  # not a show command: 404 exits 1, as az
    bad = acr("repository", "update", "-n", acr.server, "--repository", "locks/app", "--write-enabled", "maybe")
    assert bad.code == 2


def test_locked_image_cannot_be_deleted_and_the_message_says_why(acr):
    push(acr, f"{acr.server}/locked/app:v1")
    assert acr("repository", "update", "-n", acr.server, "--image", "locked/app:v1",
               "--write-enabled", "false").code == 0
    result = acr("repository", "delete", "-n", acr.server, "--image", "locked/app:v1", "--yes")
    assert result.code == 1
    assert "disallowed" in result.stderr and "locked" in result.stderr and "--write-enabled true" in result.stderr
    assert acr("repository", "show", "-n", acr.server, "--image", "locked/app:v1").code == 0
    untag = acr("repository", "untag", "-n", acr.server, "--image", "locked/app:v1")
    assert untag.code == 1 and "locked" in untag.stderr


def test_delete_image_lists_every_tag_of_the_manifest_and_removes_them(acr):
    digest = push(acr, f"{acr.server}/del/app:v1,v2")
    other = push(acr, f"{acr.server}/del/app:keep", content="other\n")
    refused = acr("repository", "delete", "-n", acr.server, "--image", "del/app:v1")
    assert refused.code == 1 and refused.stderr.strip() == f"ERROR: {NO_TTY}"
    result = acr("repository", "delete", "-n", acr.server, "--image", "del/app:v1", "--yes")
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert (f"WARNING: This operation will delete the manifest '{digest}' and all the following images: "
            "'del/app:v1', 'del/app:v2'") in result.stderr
    assert acr("repository", "show-tags", "-n", acr.server, "--repository", "del/app").json == ["keep"]
    by_digest = acr("repository", "delete", "-n", acr.server, "--image", f"del/app@{other}", "-y")
    assert by_digest.code == 0 and "'del/app:keep'" in by_digest.stderr


def test_delete_repository_returns_what_went(acr):
    digest = push(acr, f"{acr.server}/delrepo/app:v1,v2")
    refused = acr("repository", "delete", "-n", acr.server, "--repository", "delrepo/app")
    assert refused.code == 1 and NO_TTY in refused.stderr
    result = acr("repository", "delete", "-n", acr.server, "--repository", "delrepo/app", "--yes")
    assert result.code == 0, result.stderr
    assert result.json["manifestsDeleted"] == [digest]
    assert sorted(result.json["tagsDeleted"]) == ["v1", "v2"]
    assert acr("repository", "show", "-n", acr.server, "--repository", "delrepo/app").code == 3


def test_dry_run_prints_the_plan_and_deletes_nothing(acr):
    digest = push(acr, f"{acr.server}/dry/app:v1,v2")
    image = acr("repository", "delete", "-n", acr.server, "--image", "dry/app:v1", "--dry-run")
    assert image.code == 0, image.stderr
    assert image.json == {"dryRun": True, "manifests": [digest], "registry": acr.server, "repository": "dry/app",
                          "tags": ["v1", "v2"]}
    repo = acr("repository", "delete", "-n", acr.server, "--repository", "dry/app", "--dry-run")
    assert repo.json["manifests"] == [digest] and sorted(repo.json["tags"]) == ["v1", "v2"]
    untag = acr("repository", "untag", "-n", acr.server, "--image", "dry/app:v2", "--dry-run")
    assert untag.json["tags"] == ["v2"] and untag.json["manifests"] == []
    assert acr("repository", "untag", "-n", acr.server, "--image", "dry/app:nope", "--dry-run").code == 1
    assert acr("repository", "show-tags", "-n", acr.server, "--repository", "dry/app").json == ["v1", "v2"]


def test_untag_removes_the_tag_and_keeps_the_manifest(acr):
    digest = push(acr, f"{acr.server}/untag/app:v1,v2")
    result = acr("repository", "untag", "-n", acr.server, "--image", "untag/app:v1")
    assert result.code == 0 and result.stdout == ""
    assert acr("repository", "show-tags", "-n", acr.server, "--repository", "untag/app").json == ["v2"]
    assert acr("repository", "show", "-n", acr.server, "--image", f"untag/app@{digest}").code == 0
    with_digest = acr("repository", "untag", "-n", acr.server, "--image", f"untag/app@{digest}")
    assert with_digest.code == 1 and "name:tag" in with_digest.stderr


def test_resource_group_is_accepted_with_az_deprecation_warning(acr):
    push(acr, f"{acr.server}/rg/app:v1")
    result = acr("repository", "show-tags", "-n", acr.server, "--repository", "rg/app", "-g", "ignored")
    assert result.code == 0 and result.json == ["v1"]
    assert ("Argument 'resource_group_name' has been deprecated and will be removed in a future release."
            in result.stderr)


def test_wrong_username_or_password_is_a_clear_401(acr):
    push(acr, f"{acr.server}/auth/app:v1")
    result = acr("repository", "show-tags", "-n", acr.server, "--repository", "auth/app",
                 "-u", acr.emulator.info["adminUsername"], "-p", "wrong-password")
    assert result.code == 1
    assert result.stderr.startswith("ERROR: ") and len(result.stderr.strip().splitlines()) == 1
    assert "wrong-password" not in result.stderr
    ok = acr("repository", "show-tags", "-n", acr.server, "--repository", "auth/app",
             "-u", acr.emulator.info["adminUsername"], "-p", acr.emulator.info["adminPassword"])
    assert ok.json == ["v1"]
    only_password = acr("repository", "list", "-n", acr.server, "-p", "x")
    assert only_password.stderr.strip() == "ERROR: Please also specify username if password is specified."


def test_anonymous_caller_without_delete_permission_is_refused_clearly(acr, fixtures, tmp_path):
    emulator = fixtures.start_emulator("--anonymous-pull", data_dir=tmp_path / "data")
    try:
        (tmp_path / "home").mkdir()
        signed_in = type(acr)(emulator, tmp_path / "home")
        push(signed_in, f"{emulator.login_server}/anon/app:v1")
        anonymous = {"AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None, "AZURE_TENANT_ID": None}
        assert signed_in("repository", "show-tags", "-n", emulator.login_server, "--repository", "anon/app",
                         env=anonymous).json == ["v1"]
        result = signed_in("repository", "delete", "-n", emulator.login_server, "--image", "anon/app:v1", "--yes",
                           env=anonymous)
        assert result.code == 1, result.stderr
        error = result.stderr.splitlines()[-1]
        assert error.startswith("ERROR: Error: authentication required") and "Credentials tried" in error
        assert signed_in("repository", "show-tags", "-n", emulator.login_server, "--repository", "anon/app",
                         env=anonymous).json == ["v1"]
    finally:
        emulator.stop()


def test_connection_refused_is_one_line(acr):
    result = acr("repository", "list", "-n", "localhost:1")
    assert result.code == 1
    assert result.stderr.startswith("ERROR: Could not connect to the registry login server 'localhost:1'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_tab_completion_through_argcomplete(acr, tmp_path):
    out = tmp_path / "completions.txt"

    def complete(line: str) -> list[str]:
        env = dict(acr.env, _ARGCOMPLETE="1", COMP_LINE=line, COMP_POINT=str(len(line)), _ARGCOMPLETE_IFS="\n",
                   _ARGCOMPLETE_STDOUT_FILENAME=str(out))
        proc = subprocess.run([sys.executable, "-m", "azext_acr.cli.main"], env=env, capture_output=True,
                              timeout=60, cwd=acr.home)
        assert proc.returncode == 0, proc.stderr
        return [word.strip() for word in out.read_text().splitlines()]

    assert complete("acr repo") == ["repository"]
    assert "show-tags" in complete("acr repository sh")
    assert complete("acr repository show-tags --orderby ") == ["time_asc", "time_desc"]
    assert complete("acr manifest list-r") == ["list-referrers"]


@pytest.mark.skipif(not os.path.exists("/dev/ptmx"), reason="needs a pseudo-terminal")
def test_delete_prompt_on_a_terminal_names_every_tag_and_no_keeps_them(acr):
    import pty

    digest = push(acr, f"{acr.server}/prompt/app:v1,v2")
    pid, fd = pty.fork()
    if pid == 0:  # child: the real CLI on a terminal
        os.chdir(acr.home)
        os.execve(sys.executable, [sys.executable, "-m", "azext_acr.cli.main", "repository", "delete", "-n",
                                   acr.server, "--image", "prompt/app:v1"], acr.env)
    seen = b""
    while b"(y/n)" not in seen:
        chunk = os.read(fd, 1024)
        assert chunk, seen
        seen += chunk
    os.write(fd, b"n\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace").replace("\r", "")
    assert (f"This operation will delete the manifest '{digest}' and all the following images: 'prompt/app:v1', "
            "'prompt/app:v2'.\nAre you sure you want to continue? (y/n):") in text
    assert "Operation cancelled." in text and os.waitstatus_to_exitcode(status) == 1
    assert acr("repository", "show-tags", "-n", acr.server, "--repository", "prompt/app").json == ["v1", "v2"]
