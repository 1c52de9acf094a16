"""The registry rules and scope handling, without a socket (in-memory stores)."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from azext_acr.emulator.auth.scopes import AllowAll, AnonymousPull, grant, parse_scopes, permits
from azext_acr.emulator.models import errors
from azext_acr.emulator.models.names import check_name, check_reference
from azext_acr.emulator.models.paging import paginate
from azext_acr.emulator.models.registry import Registry
from azext_acr.emulator.storage.blobs import MemoryBlobStore
from azext_acr.emulator.storage.metadata import MetadataStore


def new_registry() -> Registry:
    return Registry(MetadataStore(None), MemoryBlobStore())


def upload(registry: Registry, repo: str, data: bytes) -> str:
    session = registry.start_upload(repo)
    session.upload.write(data)
    return asyncio.run(registry.finish_upload(session, "sha256:" + hashlib.sha256(data).hexdigest()))


def image(registry: Registry, repo: str, tag: str) -> str:
    config = upload(registry, repo, b"{}")
    body = json.dumps({"schemaVersion": 2, "config": {"mediaType": "x", "digest": config, "size": 2}, "layers": []})
    return registry.put_manifest(repo, tag, body.encode(), "application/vnd.oci.image.manifest.v1+json").digest


def test_scopes_parse_from_the_right_and_normalise_spellings():
    scopes = parse_scopes(["repository:localhost:5000/a:pull,metadataRead registry:catalog:*", "junk"])
    assert [(s.type, s.name, s.actions) for s in scopes] == [
        ("repository", "localhost:5000/a", ("pull", "metadata_read")),
        ("registry", "catalog", ("*",)),
    ]


def test_grant_is_the_intersection_of_asked_and_allowed():
    asked = parse_scopes(["repository:a:pull,push registry:catalog:*"])
    assert grant(asked, AnonymousPull()) == [
        {"type": "repository", "name": "a", "actions": ["pull"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]
    assert grant(asked, AllowAll())[0]["actions"] == ["pull", "push"]
    assert permits([{"type": "repository", "name": "a", "actions": ["*"]}], "repository", "a", ["delete"])
    assert not permits([{"type": "repository", "name": "a", "actions": ["pull"]}], "repository", "b", ["pull"])


def test_names_refuse_traversal_and_uppercase():
    for bad in ("../etc", "a/../b", "A", "a//b", "/a", "a/", "."):
        with pytest.raises(errors.NameInvalid):
            check_name(bad)
    assert check_name("a/b-c/d__e.f") == "a/b-c/d__e.f"
    with pytest.raises(errors.DigestInvalid):
        check_reference("sha256:../../x")


def test_locks_are_inherited_from_the_repository():
    registry = new_registry()
    digest = image(registry, "r", "v1")
    registry.update_repository("r", {"deleteEnabled": False})
    with pytest.raises(errors.DisallowedOperation):
        registry.delete_manifest("r", digest)
    with pytest.raises(errors.DisallowedOperation):
        registry.delete_tag("r", "v1")
    registry.update_repository("r", {"deleteEnabled": True})
    registry.update_manifest("r", digest, {"writeEnabled": False})
    with pytest.raises(errors.DisallowedOperation):
        registry.delete_manifest("r", digest)


def test_write_locked_tag_cannot_be_moved_but_another_tag_can():
    registry = new_registry()
    image(registry, "r", "v1")
    image(registry, "r", "v2")
    registry.update_tag("r", "v1", {"writeEnabled": False})
    config = upload(registry, "r", b'{"other":1}')
    body = json.dumps({"schemaVersion": 2, "config": {"mediaType": "x", "digest": config, "size": 11}, "layers": []})
    with pytest.raises(errors.DisallowedOperation):
        registry.put_manifest("r", "v1", body.encode(), None)
    registry.put_manifest("r", "v2", body.encode(), None)


def test_digest_mismatch_stores_nothing():
    registry = new_registry()
    session = registry.start_upload("r")
    session.upload.write(b"abc")
    with pytest.raises(errors.DigestInvalid):
        asyncio.run(registry.finish_upload(session, "sha256:" + "0" * 64))
    assert registry.blobs.size("sha256:" + hashlib.sha256(b"abc").hexdigest()) is None


def test_pagination_after_last_in_lexical_and_time_order():
    assert paginate(["a", "b", "c"], str, "a", 1, lexical=True) == (["b"], True)
    assert paginate(["a", "b", "c"], str, "bb", 5, lexical=True) == (["c"], False)
    assert paginate(["c", "a", "b"], str, "a", 5, lexical=False) == (["b"], False)
    assert paginate(["a"], str, None, 0, lexical=True) == ([], False)
