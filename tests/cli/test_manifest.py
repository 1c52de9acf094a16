"""``acr manifest`` (preview) against the emulator: ids, shapes, tables, --raw, referrers, delete."""

from __future__ import annotations

import hashlib
import json

import pytest

LAYER_TYPE = "application/vnd.unknown.layer.v1+txt"
SIGNATURE = "application/vnd.cncf.notary.signature"
SBOM = "application/spdx+json"
PREVIEW = ("WARNING: Command group 'acr manifest' is in preview and under development. Reference and support "
           "levels: https://aka.ms/CLI_refstatus")
MANIFEST_USAGE = ("ERROR: You must provide either a fully qualified manifest specifier such as "
                  "'myregistry.azurecr.io/hello-world:latest' as a positional parameter or provide "
                  "'-r MyRegistry -n hello-world:latest' argument values.")
REPO_USAGE = ("ERROR: You must provide either a fully qualified repository specifier such as "
              "'myregistry.azurecr.io/hello-world' as a positional parameter or provide "
              "'-r MyRegistry -n hello-world' argument values.")


def push(acr, ref: str, content: str = "payload\n") -> str:
    name = f"f{abs(hash((ref, content))) % 10**8}.txt"
    (acr.home / name).write_text(content)
    result = acr("artifact", "push", ref, f"./{name}:{LAYER_TYPE}", "--format", "json")
    assert result.code == 0, result.stderr
    return result.json["digest"]


@pytest.fixture
def registry(acr, monkeypatch):
    """The library, signed in as the emulator's admin user, to write what the CLI cannot (referrers)."""
    from azext_acr.registry import connect
    from azext_acr.registry.credentials import UsernamePasswordCredential

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", acr.emulator.ca_cert)
    info = acr.emulator.info
    client = connect(acr.server, UsernamePasswordCredential(info["adminUsername"], info["adminPassword"]))
    client.session.ping()
    yield client
    client.close()


def put_referrer(client, repository: str, subject: str, artifact_type: str, note: str) -> str:
    """An OCI 1.1 artifact whose subject is ``subject`` (a signature, an SBOM...)."""
    from azext_acr.registry.oci import sha256_digest

    empty = b"{}"
    client.oci.upload_bytes(repository, empty, sha256_digest(empty))
    head = client.oci.head_manifest(repository, subject)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": artifact_type,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256_digest(empty), "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256_digest(empty),
                            "size": 2}],
                "subject": {"mediaType": head["mediaType"], "digest": head["digest"], "size": head["size"]},
                "annotations": {"note": note}}
    content = json.dumps(manifest).encode()
    return client.oci.put_manifest(repository, sha256_digest(content), content, manifest["mediaType"])


def test_every_manifest_command_prints_the_az_preview_warning(acr):
    push(acr, f"{acr.server}/preview/app:v1")
    for args in (["list", f"{acr.server}/preview/app"], ["list-metadata", f"{acr.server}/preview/app"],
                 ["show", f"{acr.server}/preview/app:v1"], ["show-metadata", f"{acr.server}/preview/app:v1"],
                 ["list-referrers", f"{acr.server}/preview/app:v1"],
                 ["update-metadata", f"{acr.server}/preview/app:v1"],
                 ["delete", f"{acr.server}/preview/app:v1", "--dry-run"]):
        result = acr("manifest", *args)
        assert result.code == 0, (args, result.stderr)
        assert PREVIEW in result.stderr.splitlines(), args


def test_ids_and_registry_name_options_are_exclusive_as_in_az(acr):
    push(acr, f"{acr.server}/ids/app:v1")
    assert acr("manifest", "show", "-r", acr.server, "-n", "ids/app:v1").code == 0
    assert acr("manifest", "show", f"{acr.server}/ids/app:v1").code == 0
    # a positional id with -r alone: the id's registry wins, as az
    assert acr("manifest", "show", f"{acr.server}/ids/app:v1", "-r", "elsewhere.example").code == 0
    for args in (["show"], ["show", "-r", acr.server], ["show", "-n", "ids/app:v1"],
                 ["show", f"{acr.server}/ids/app:v1", "-n", "ids/app:v1"]):
        result = acr("manifest", *args)
        assert result.code == 1 and MANIFEST_USAGE in result.stderr.splitlines(), args
    for args in (["list"], ["list", "-n", "ids/app"], ["list", f"{acr.server}/ids/app", "-n", "ids/app"]):
        result = acr("manifest", *args)
        assert result.code == 1 and REPO_USAGE in result.stderr.splitlines(), args
    bad_id = acr("manifest", "show", "ids/app:v1")
    assert bad_id.code == 1 and "must be a fully qualified manifest specifier" in bad_id.stderr
    tagged_repo = acr("manifest", "list", f"{acr.server}/ids/app:v1")
    assert "ERROR: The positional parameter 'repo_id' should not include a tag or digest." in tagged_repo.stderr
    tagged_name = acr("manifest", "list-metadata", "-r", acr.server, "-n", "ids/app:v1")
    assert ("ERROR: Parameter 'name' refers to a repository and should not include a tag or digest."
            in tagged_name.stderr)


def test_list_metadata_and_list_cover_every_manifest_with_table_columns(acr, registry):
    first = push(acr, f"{acr.server}/listm/app:v1")
    second = push(acr, f"{acr.server}/listm/app:v2", content="two\n")
    signature = put_referrer(registry, "listm/app", first, SIGNATURE, "sig")
    metadata = acr("manifest", "list-metadata", "-r", acr.server, "-n", "listm/app")
    assert metadata.code == 0, metadata.stderr
    assert sorted(item["digest"] for item in metadata.json) == sorted([first, second, signature])
    assert {"changeableAttributes", "createdTime", "digest", "imageSize", "lastUpdateTime", "mediaType"} <= set(
        metadata.json[0])
    untagged = acr("manifest", "list-metadata", f"{acr.server}/listm/app", "--query", "[?tags==null].digest")
    assert untagged.json == [signature]
    newest = acr("manifest", "list-metadata", f"{acr.server}/listm/app", "--orderby", "time_desc", "--top", "1")
    assert [item["digest"] for item in newest.json] == [signature]

    documents = acr("manifest", "list", f"{acr.server}/listm/app")
    assert documents.code == 0, documents.stderr
    assert len(documents.json) == 3 and all(doc["schemaVersion"] == 2 for doc in documents.json)
    table = acr("manifest", "list", f"{acr.server}/listm/app", "-o", "table")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["MediaType", "ArtifactType", "SubjectDigest"]
    assert any(SIGNATURE in line and first in line for line in lines[2:])


def test_show_returns_the_document_and_raw_prints_the_exact_bytes(acr):
    digest = push(acr, f"{acr.server}/showm/app:v1")
    shown = acr("manifest", "show", "-r", acr.server, "-n", "showm/app:v1")
    assert shown.code == 0, shown.stderr
    assert shown.json["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert shown.stdout == json.dumps(shown.json, indent=2, sort_keys=True) + "\n"
    raw = acr("manifest", "show", f"{acr.server}/showm/app@{digest}", "--raw", "-o", "table")
    assert raw.code == 0
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == digest
    assert not raw.stdout.endswith("\n")
    missing = acr("manifest", "show", f"{acr.server}/showm/app:nope")
    assert missing.code == 3 and missing.stdout == ""


def test_show_metadata_and_update_metadata(acr):
    digest = push(acr, f"{acr.server}/metam/app:v1")
    tag = acr("manifest", "show-metadata", f"{acr.server}/metam/app:v1")
    assert sorted(tag.json) == ["changeableAttributes", "createdTime", "digest", "lastUpdateTime", "name", "signed"]
    manifest = acr("manifest", "show-metadata", "-r", acr.server, "-n", f"metam/app@{digest}")
    assert manifest.json["digest"] == digest and manifest.json["tags"] == ["v1"]
    assert acr("manifest", "show-metadata", f"{acr.server}/metam/app:nope").code == 3
    updated = acr("manifest", "update-metadata", f"{acr.server}/metam/app@{digest}", "--delete-enabled", "false")
    assert updated.code == 0, updated.stderr
    assert updated.json["changeableAttributes"]["deleteEnabled"] is False
    refused = acr("manifest", "delete", f"{acr.server}/metam/app@{digest}", "--yes")
    assert refused.code == 1 and "locked" in refused.stderr
    acr("manifest", "update-metadata", f"{acr.server}/metam/app@{digest}", "--delete-enabled", "true")
    assert acr("manifest", "delete", f"{acr.server}/metam/app@{digest}", "--yes").code == 0


def test_delete_asks_refuses_without_tty_and_dry_run_deletes_nothing(acr):
    digest = push(acr, f"{acr.server}/delm/app:v1,v2")
    refused = acr("manifest", "delete", "-r", acr.server, "-n", "delm/app:v1")
    assert refused.code == 1
    assert "ERROR: Unable to prompt for confirmation as no tty available. Use --yes." in refused.stderr
    plan = acr("manifest", "delete", "-r", acr.server, "-n", "delm/app:v1", "--dry-run")
    assert plan.json == {"dryRun": True, "manifests": [digest], "registry": acr.server, "repository": "delm/app",
                         "tags": ["v1", "v2"]}
    assert acr("manifest", "show", f"{acr.server}/delm/app:v2").code == 0
    deleted = acr("manifest", "delete", "-r", acr.server, "-n", "delm/app:v1", "--yes")
    assert deleted.code == 0 and deleted.stdout == ""
    assert "This operation will delete" not in deleted.stderr  # unlike repository delete, as az
    assert acr("manifest", "show", f"{acr.server}/delm/app@{digest}").code == 3


def test_list_referrers_filters_by_type_recurses_and_has_az_table(acr, registry):
    subject = push(acr, f"{acr.server}/refm/app:v1")
    signature = put_referrer(registry, "refm/app", subject, SIGNATURE, "sig")
    sbom = put_referrer(registry, "refm/app", subject, SBOM, "sbom")
    sbom_signature = put_referrer(registry, "refm/app", sbom, SIGNATURE, "sig of sbom")

    result = acr("manifest", "list-referrers", f"{acr.server}/refm/app:v1")
    assert result.code == 0, result.stderr
    assert sorted(result.json) == ["manifests"]
    assert sorted(item["digest"] for item in result.json["manifests"]) == sorted([signature, sbom])
    only = acr("manifest", "list-referrers", "-r", acr.server, "-n", "refm/app:v1", "--artifact-type", SIGNATURE)
    assert [item["digest"] for item in only.json["manifests"]] == [signature]
    deep = acr("manifest", "list-referrers", f"{acr.server}/refm/app@{subject}", "--recursive")
    assert sorted(item["digest"] for item in deep.json["manifests"]) == sorted([signature, sbom, sbom_signature])
    table = acr("manifest", "list-referrers", f"{acr.server}/refm/app:v1", "-o", "table")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Digest", "ArtifactType", "MediaType", "Size"]
    assert any(line.startswith(signature) and SIGNATURE in line for line in lines[2:])
