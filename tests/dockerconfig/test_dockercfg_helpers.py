"""Credential helpers (credsStore / credHelpers), exercised end to end through a real helper program."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import azext_acr.dockerconfig.helpers as helpers_module
from azext_acr.dockerconfig import (
    TOKEN_USERNAME,
    Credentials,
    DockerConfigError,
    erase_credentials,
    get_credentials,
    list_servers,
    load_config,
    store_credentials,
)
from azext_acr.dockerconfig.helpers import helper_get, helper_list, helper_program

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def test_creds_store_round_trip_through_helper(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper"})
    store_credentials("r.io", Credentials("u", "p4ss"), cfg)
    assert testhelper.entries() == {"r.io": {"Username": "u", "Secret": "p4ss"}}
    assert get_credentials("r.io", cfg) == Credentials("u", "p4ss")
    assert erase_credentials("r.io", cfg) is True
    assert testhelper.entries() == {}
    assert get_credentials("r.io", cfg) is None
    assert testhelper.actions() == ["store", "get", "erase", "get"]


def test_creds_store_leaves_an_empty_auths_entry_like_docker(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper", "auths": {"r.io": {"auth": "c3RhbGU6b2xk"}}})
    store_credentials("r.io", Credentials("u", "p4ss"), cfg)
    config = load_config(cfg)
    assert config["auths"] == {"r.io": {}}  # the stale plaintext password is gone
    assert "p4ss" not in cfg.read_text()
    erase_credentials("r.io", cfg)
    assert load_config(cfg)["auths"] == {}


def test_identity_token_without_user_goes_to_helper_as_token_user(
    cfg: Path, write_config, testhelper
) -> None:
    write_config(cfg, {"credsStore": "testhelper"})
    store_credentials("r.io", Credentials(identity_token="refresh"), cfg)
    assert testhelper.entries()["r.io"] == {"Username": TOKEN_USERNAME, "Secret": "refresh"}
    assert get_credentials("r.io", cfg) == Credentials(None, None, "refresh")


def test_identity_token_with_null_guid_user_is_stored_as_given(cfg: Path, write_config, testhelper) -> None:
    """oras-py sends a helper's Username/Secret as Basic; null GUID + refresh token works everywhere."""
    write_config(cfg, {"credsStore": "testhelper"})
    store_credentials("r.io", Credentials(NULL_GUID, None, identity_token="refresh"), cfg)
    assert testhelper.entries()["r.io"] == {"Username": NULL_GUID, "Secret": "refresh"}
    assert get_credentials("r.io", cfg) == Credentials(NULL_GUID, "refresh")


def test_helper_answering_token_user_yields_identity_token(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper"})
    testhelper.put("r.io", "<token>", "tok")
    assert get_credentials("https://r.io/v2/", cfg) == Credentials(None, None, "tok")


def test_helper_not_found_answer_means_no_credentials(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper", "auths": {"r.io": {}}})
    assert get_credentials("r.io", cfg) is None
    assert helper_get("testhelper", "r.io") is None


def test_configured_helper_answer_is_final_even_if_auths_has_an_entry(
    cfg: Path, write_config, testhelper
) -> None:
    write_config(cfg, {"credsStore": "testhelper", "auths": {"r.io": {"auth": "dTpw"}}})
    assert get_credentials("r.io", cfg) is None  # docker does not fall back either


def test_cred_helpers_entry_wins_over_creds_store(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "absent-helper", "credHelpers": {"r.io": "testhelper"}})
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert testhelper.entries() == {"r.io": {"Username": "u", "Secret": "p"}}
    assert get_credentials("r.io", cfg) == Credentials("u", "p")
    assert load_config(cfg)["auths"] == {"r.io": {}}
    with pytest.raises(DockerConfigError, match="docker-credential-absent-helper"):
        get_credentials("other.io", cfg)


def test_empty_cred_helpers_entry_means_plain_file_storage(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper", "credHelpers": {"r.io": ""}})
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert testhelper.entries() == {}
    assert get_credentials("r.io", cfg) == Credentials("u", "p")


def test_cred_helpers_keys_match_tolerantly(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credHelpers": {"https://r.io/": "testhelper"}})
    testhelper.put("r.io", "u", "p")
    assert get_credentials("r.io", cfg) == Credentials("u", "p")


def test_erase_in_helper_of_unknown_server_reports_nothing_removed(
    cfg: Path, write_config, testhelper
) -> None:
    raw = write_config(cfg, {"credsStore": "testhelper"})
    assert erase_credentials("r.io", cfg) is False
    assert cfg.read_bytes() == raw


def test_list_servers_merges_auths_cred_helpers_and_store_list(cfg: Path, write_config, testhelper) -> None:
    write_config(
        cfg,
        {
            "credsStore": "testhelper",
            "credHelpers": {"gcr.io": "gcloud"},
            "auths": {"empty-marker.io": {}, "plain.io": {"auth": "dTpw"}},
        },
    )
    testhelper.put("kept.io", "u", "p")
    assert list_servers(cfg) == ["empty-marker.io", "gcr.io", "kept.io", "plain.io"]
    assert helper_list("testhelper") == {"kept.io": "u"}


@pytest.mark.parametrize("setting", ["credsStore", "credHelpers"])
def test_missing_helper_error_names_program_setting_and_fix(
    cfg: Path, write_config, testhelper, setting
) -> None:
    data = {"credsStore": "nosuch"} if setting == "credsStore" else {"credHelpers": {"r.io": "nosuch"}}
    raw = write_config(cfg, data)
    for call in (
        lambda: get_credentials("r.io", cfg),
        lambda: store_credentials("r.io", Credentials("u", "secret-pw"), cfg),
        lambda: erase_credentials("r.io", cfg),
    ):
        with pytest.raises(DockerConfigError) as err:
            call()
        message = str(err.value)
        assert "docker-credential-nosuch" in message
        assert setting in message and str(cfg) in message
        assert "install it, or remove" in message
        assert "secret-pw" not in message and "\n" not in message
    assert cfg.read_bytes() == raw


def test_failing_helper_error_carries_its_message_but_never_the_secret(
    cfg: Path, write_config, testhelper, monkeypatch
) -> None:
    raw = write_config(cfg, {"credsStore": "testhelper"})
    monkeypatch.setenv("TESTHELPER_FAIL", "1")
    with pytest.raises(DockerConfigError) as err:
        store_credentials("r.io", Credentials("someone", "Sup3r-Secret!"), cfg)
    message = str(err.value)
    assert "docker-credential-testhelper store" in message
    assert "exit code 1" in message and "keychain is locked" in message
    assert "Sup3r-Secret!" not in message
    assert "\n" not in message
    assert cfg.read_bytes() == raw  # nothing recorded when the helper failed

    with pytest.raises(DockerConfigError) as err:
        store_credentials("r.io", Credentials(identity_token="refresh-XYZ"), cfg)
    assert "refresh-XYZ" not in str(err.value)

    with pytest.raises(DockerConfigError, match="get' failed"):
        get_credentials("r.io", cfg)


def test_helper_returning_garbage_is_a_config_error(cfg: Path, write_config, testhelper) -> None:
    write_config(cfg, {"credsStore": "testhelper"})
    testhelper.store_file.write_text(json.dumps({"r.io": "not-an-object"}))
    with pytest.raises(DockerConfigError):
        get_credentials("r.io", cfg)


def test_hanging_helper_times_out_with_clear_error(cfg: Path, write_config, testhelper, monkeypatch) -> None:
    write_config(cfg, {"credsStore": "testhelper"})
    monkeypatch.setenv("TESTHELPER_SLEEP", "20")
    monkeypatch.setattr(helpers_module, "HELPER_TIMEOUT", 0.5)
    started = time.monotonic()
    with pytest.raises(DockerConfigError, match="did not answer within 0.5 s"):
        get_credentials("r.io", cfg)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("name", ["../../bin/sh", "a/b", "", "-x", "x y"])
def test_helper_names_that_are_not_plain_names_are_rejected(cfg: Path, write_config, name: str) -> None:
    write_config(cfg, {"credsStore": name} if name else {"credHelpers": {"r.io": "a/../b"}})
    with pytest.raises(DockerConfigError, match="helper name"):
        get_credentials("r.io", cfg)
    with pytest.raises(DockerConfigError):
        helper_program(name)


def test_helper_that_is_not_executable_gives_config_error(
    tmp_path: Path, cfg: Path, write_config, monkeypatch
) -> None:
    bin_dir = tmp_path / "bin2"
    bin_dir.mkdir()
    # shutil.which skips non-executable files, so this looks like a missing helper, with the clear message
    (bin_dir / "docker-credential-broken").write_text("not a program")
    monkeypatch.setenv("PATH", str(bin_dir))
    write_config(cfg, {"credsStore": "broken"})
    with pytest.raises(DockerConfigError, match="docker-credential-broken"):
        get_credentials("r.io", cfg)
