"""Pure parsers of the client library: references, login servers, challenges, Link headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azext_acr.registry.challenge import parse_challenges, pick_challenge
from azext_acr.registry.errors import InvalidReferenceError, ProtocolError
from azext_acr.registry.loginserver import is_loopback, resolve_login_server
from azext_acr.registry.pagination import iterate_pages, next_link
from azext_acr.registry.reference import parse_image_name, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("text, expected", [
    ("localhost:5000/samples/artifact:1.0", ("localhost:5000", "samples/artifact", "1.0", None)),
    ("myreg.azurecr.io/hello-world", ("myreg.azurecr.io", "hello-world", None, None)),
    (f"myreg.azurecr.io/a/b/c@{DIGEST}", ("myreg.azurecr.io", "a/b/c", None, DIGEST)),
    (f"localhost:5000/r:t@{DIGEST}", ("localhost:5000", "r", "t", DIGEST)),
    ("https://myreg.azurecr.io/r:v1", ("myreg.azurecr.io", "r", "v1", None)),
])
def test_parse_reference_splits_registry_repository_tag_and_digest(text, expected):
    ref, _ = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == expected


def test_parse_reference_accepts_several_tags_for_push():
    ref, tags = parse_reference("localhost:5000/r:v1,latest", tags_allowed_multi=True)
    assert ref.tag == "v1" and tags == ["v1", "latest"]


@pytest.mark.parametrize("text", [
    "", "hello", "localhost:5000/UPPER", "localhost:5000/r:bad tag", "localhost:5000/r@sha256:xyz",
    "localhost:5000/../etc", "localhost:5000/r:" + "t" * 200, " localhost:5000/r", "localhost:99999999/r",
])
def test_parse_reference_rejects_malformed_references(text):
    with pytest.raises(InvalidReferenceError):
        parse_reference(text)


def test_parse_image_name_follows_az_defaults():
    assert parse_image_name("hello") == ("hello", "latest", None)
    assert parse_image_name("a/b:v1") == ("a/b", "v1", None)
    assert parse_image_name(f"a@{DIGEST}") == ("a", None, DIGEST)
    with pytest.raises(InvalidReferenceError):
        parse_image_name(f"a@{DIGEST}", allow_digest=False)
    with pytest.raises(InvalidReferenceError):
        parse_image_name("a:b:c")


@given(st.text(max_size=80))
def test_reference_parsers_never_raise_anything_but_invalid_reference(text):
    for call in (lambda: parse_reference(text), lambda: parse_image_name(text)):
        try:
            call()
        except InvalidReferenceError:
            pass


def test_login_server_resolution_as_az():
    assert resolve_login_server("myregistry") == "myregistry.azurecr.io"
    assert resolve_login_server("MyRegistry", suffix="contoso") == "myregistry-contoso.azurecr.io"
    assert resolve_login_server("localhost:5000") == "localhost:5000"
    assert resolve_login_server("https://myreg.azurecr.io/") == "myreg.azurecr.io"
    for bad in ("abc", "my-registry", "a/b", "", "host:notaport"):
        with pytest.raises(InvalidReferenceError):
            resolve_login_server(bad)


def test_loopback_detection():
    assert is_loopback("localhost:5000") and is_loopback("127.0.0.1:1") and is_loopback("[::1]:80")
    assert not is_loopback("myreg.azurecr.io") and not is_loopback("10.0.0.1:5000")


def test_challenge_parsing_tolerates_spaces_and_commas_in_quotes():
    header = 'Bearer realm="https://r.io/oauth2/token", service="r.io",scope="repository:a:pull,push"'
    challenge = pick_challenge(header)
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://r.io/oauth2/token", "service": "r.io",
                                "scope": "repository:a:pull,push"}


def test_challenge_prefers_bearer_and_reads_basic():
    assert pick_challenge('Basic realm="Azure Container Registry"').scheme == "basic"
    assert pick_challenge('Basic realm="x", Bearer realm="y",service="s"').realm == "y"
    assert pick_challenge("") is None
    assert pick_challenge("Bearer").params == {}


@given(st.text(max_size=200))
def test_challenge_parser_never_raises(header):
    parse_challenges(header)


def test_next_link_reads_rel_next():
    assert next_link('</v2/_catalog?last=a&n=1&orderby=>; rel="next"') == "/v2/_catalog?last=a&n=1&orderby="
    assert next_link('<https://x/y>; rel="prev"') is None
    assert next_link(None) is None
    with pytest.raises(ProtocolError):
        next_link("garbage without brackets")


def test_iterate_pages_follows_links_and_refuses_loops_and_foreign_hosts():
    pages = {"https://r/a": (1, "</b>; rel=\"next\""), "https://r/b": (2, None)}
    assert list(iterate_pages(lambda url: pages[url], "https://r/a")) == [1, 2]
    looping = {"https://r/a": (1, "</a>; rel=\"next\"")}
    with pytest.raises(ProtocolError, match="repeats"):
        list(iterate_pages(lambda url: looping[url], "https://r/a"))
    foreign = {"https://r/a": (1, "<https://evil/b>; rel=\"next\"")}
    with pytest.raises(ProtocolError, match="another host"):
        list(iterate_pages(lambda url: foreign[url], "https://r/a"))


@given(st.text(max_size=200))
def test_link_parser_raises_only_protocol_errors(header):
    try:
        next_link(header)
    except ProtocolError:
        pass


def test_plain_http_is_refused_for_non_loopback_registries():
    from azext_acr.registry.credentials import AnonymousCredential
    from azext_acr.registry.errors import ConnectionFailure
    from azext_acr.registry.transport import RegistrySession

    with pytest.raises(ConnectionFailure, match="unencrypted"):
        RegistrySession("myregistry.azurecr.io", AnonymousCredential(), scheme="http")
    assert RegistrySession("localhost:5000", AnonymousCredential(), scheme="http").base_url == "http://localhost:5000"
