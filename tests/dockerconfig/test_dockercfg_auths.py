"""Credentials kept in ``auths``: docker's file format, tolerant lookups, and careful rewrites."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import azext_acr.dockerconfig.config as config_module
from azext_acr.dockerconfig import (
    Credentials,
    DockerConfigError,
    erase_credentials,
    get_credentials,
    list_servers,
    load_config,
    normalize_server,
    store_credentials,
    update_config,
)

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_store_get_erase_round_trip(cfg: Path) -> None:
    store_credentials("myreg.azurecr.io", Credentials("admin", "s3cret"), cfg)
    assert get_credentials("myreg.azurecr.io", cfg) == Credentials("admin", "s3cret")
    assert erase_credentials("myreg.azurecr.io", cfg) is True
    assert get_credentials("myreg.azurecr.io", cfg) is None
    assert load_config(cfg) == {"auths": {}}


def test_erase_of_unknown_server_reports_nothing_removed_and_does_not_create_file(cfg: Path) -> None:
    assert erase_credentials("nowhere.io", cfg) is False
    assert not cfg.exists()


def test_written_file_is_docker_shaped_with_tabs_and_trailing_newline(cfg: Path) -> None:
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert cfg.read_text() == '{\n\t"auths": {\n\t\t"r.io": {\n\t\t\t"auth": "dTpw"\n\t\t}\n\t}\n}\n'


def test_identity_token_is_stored_az_style_and_read_back(cfg: Path) -> None:
    store_credentials("r.io", Credentials(NULL_GUID, "", identity_token="refresh-tok"), cfg)
    entry = json.loads(cfg.read_text())["auths"]["r.io"]
    assert entry == {"auth": b64(NULL_GUID + ":"), "identitytoken": "refresh-tok"}
    assert get_credentials("r.io", cfg) == Credentials(NULL_GUID, None, "refresh-tok")


def test_refresh_token_as_password_for_oras_py_is_stored_as_given(cfg: Path) -> None:
    store_credentials("r.io", Credentials(NULL_GUID, "refresh-tok", identity_token="refresh-tok"), cfg)
    entry = json.loads(cfg.read_text())["auths"]["r.io"]
    assert base64.b64decode(entry["auth"]).decode() == f"{NULL_GUID}:refresh-tok"
    assert entry["identitytoken"] == "refresh-tok"


def test_identity_token_without_user_has_no_auth_field(cfg: Path) -> None:
    store_credentials("r.io", Credentials(identity_token="tok"), cfg)
    assert json.loads(cfg.read_text())["auths"]["r.io"] == {"identitytoken": "tok"}
    assert get_credentials("r.io", cfg) == Credentials(None, None, "tok")


def test_auth_is_split_at_the_first_colon(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"r.io": {"auth": b64("user:pa:ss:word")}}})
    assert get_credentials("r.io", cfg) == Credentials("user", "pa:ss:word")


def test_separate_username_and_password_fields_are_honoured(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"r.io": {"username": "u", "password": "p"}}})
    assert get_credentials("r.io", cfg) == Credentials("u", "p")


def test_unpadded_base64_auth_is_accepted(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"r.io": {"auth": b64("u:p1").rstrip("=")}}})
    assert get_credentials("r.io", cfg) == Credentials("u", "p1")


@pytest.mark.parametrize(
    "bad", ["%%%notbase64", b64("no-colon-here"), base64.b64encode(b"\xff\xfe:x").decode()]
)
def test_bad_auth_value_is_a_config_error_naming_the_file(cfg: Path, write_config, bad: str) -> None:
    write_config(cfg, {"auths": {"r.io": {"auth": bad}}})
    with pytest.raises(DockerConfigError) as err:
        get_credentials("r.io", cfg)
    assert "'r.io'" in str(err.value) and str(cfg) in str(err.value)


def test_empty_entry_means_no_credentials(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"r.io": {}}})
    assert get_credentials("r.io", cfg) is None


@pytest.mark.parametrize(
    "key",
    [
        "r.io:5000",
        "https://r.io:5000",
        "http://r.io:5000",
        "https://r.io:5000/",
        "https://r.io:5000/v1/",
        "https://r.io:5000/v2/",
        "r.io:5000/v2",
        "HTTPS://R.IO:5000/",
    ],
)
@pytest.mark.parametrize("asked", ["r.io:5000", "https://r.io:5000/v2/"])
def test_auths_keys_match_tolerantly(cfg: Path, write_config, key: str, asked: str) -> None:
    write_config(cfg, {"auths": {key: {"auth": b64("u:p")}}})
    assert get_credentials(asked, cfg) == Credentials("u", "p")


@pytest.mark.parametrize("key", ["r.io", "r.io:5001", "https://r.io:5000/myrepo", "other.r.io:5000"])
def test_auths_keys_for_other_registries_or_namespaces_do_not_match(
    cfg: Path, write_config, key: str
) -> None:
    write_config(cfg, {"auths": {key: {"auth": b64("u:p")}}})
    assert get_credentials("r.io:5000", cfg) is None


def test_exact_key_wins_over_legacy_spelling(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"https://r.io/v1/": {"auth": b64("old:1")}, "r.io": {"auth": b64("new:2")}}})
    assert get_credentials("r.io", cfg) == Credentials("new", "2")


def test_store_replaces_legacy_spellings_of_the_same_registry(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"https://r.io/": {"auth": b64("old:1")}, "other.io": {"auth": b64("o:2")}}})
    store_credentials("https://r.io/v2/", Credentials("new", "2"), cfg)
    assert load_config(cfg)["auths"] == {"other.io": {"auth": b64("o:2")}, "r.io": {"auth": b64("new:2")}}


def test_erase_removes_every_spelling_of_the_registry(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"https://r.io/": {"auth": b64("a:1")}, "r.io": {}, "o.io": {}}})
    assert erase_credentials("r.io", cfg) is True
    assert load_config(cfg) == {"auths": {"o.io": {}}}


def test_docker_hub_uses_dockers_canonical_key(cfg: Path) -> None:
    store_credentials("docker.io", Credentials("u", "p"), cfg)
    assert list(load_config(cfg)["auths"]) == ["https://index.docker.io/v1/"]
    assert get_credentials("index.docker.io", cfg) == Credentials("u", "p")


def test_unknown_keys_and_other_entries_are_preserved_exactly(cfg: Path, write_config) -> None:
    original = {
        "auths": {
            "other.io": {"auth": b64("o:1"), "email": "x@y"},
            "r.io": {"auth": b64("old:1"), "email": "me@x"},
        },
        "HttpHeaders": {"User-Agent": "Docker-Client/19.03 (linux)"},
        "proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "*.local"}},
        "psFormat": "table {{.ID}}",
        "currentContext": "colima",
        "plugins": {"x": {"n": 1.5, "list": [1, None, True]}},
        "experimental": "enabled",
    }
    write_config(cfg, original)
    store_credentials("r.io", Credentials("new", "2"), cfg)
    expected = json.loads(json.dumps(original))
    expected["auths"]["r.io"] = {"email": "me@x", "auth": b64("new:2")}
    assert load_config(cfg) == expected
    assert list(load_config(cfg)) == list(original)  # key order kept too


def test_new_file_is_mode_0600_in_a_new_0700_directory(cfg: Path) -> None:
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700


def test_rewrite_tightens_a_world_readable_file_to_0600(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {}})
    os.chmod(cfg, 0o644)
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_mode_is_0600_even_under_a_permissive_umask(cfg: Path) -> None:
    old = os.umask(0)
    try:
        store_credentials("r.io", Credentials("u", "p"), cfg)
    finally:
        os.umask(old)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_symlinked_config_is_updated_through_the_link(tmp_path: Path, cfg: Path, write_config) -> None:
    real = tmp_path / "dotfiles" / "docker-config.json"
    write_config(real, {"auths": {}})
    cfg.parent.mkdir()
    cfg.symlink_to(real)
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert cfg.is_symlink()
    assert "r.io" in json.loads(real.read_text())["auths"]


def test_failed_replace_leaves_old_file_intact_and_no_temp_files(
    cfg: Path, write_config, monkeypatch
) -> None:
    raw = write_config(cfg, {"auths": {"o.io": {"auth": b64("o:1")}}})

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.os, "replace", broken_replace)
    with pytest.raises(DockerConfigError) as err:
        store_credentials("r.io", Credentials("u", "p"), cfg)
    assert "No space left on device" in str(err.value) and "unchanged" in str(err.value)
    assert cfg.read_bytes() == raw
    assert sorted(p.name for p in cfg.parent.iterdir() if not p.name.endswith(".lock")) == ["config.json"]


def test_mutation_that_raises_writes_nothing(cfg: Path, write_config) -> None:
    raw = write_config(cfg, {"auths": {}})

    def explode(config: dict) -> None:
        config["auths"]["r.io"] = {}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        update_config(explode, cfg)
    assert cfg.read_bytes() == raw


def test_uncreatable_config_directory_gives_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    path = blocker / "docker" / "config.json"
    with pytest.raises(DockerConfigError, match=str(path)):
        store_credentials("r.io", Credentials("u", "p"), path)
    with pytest.raises(DockerConfigError, match="Could not create Docker config directory"):
        update_config(lambda config: config.update(x=1), path)


def test_lock_timeout_gives_a_clear_error(cfg: Path, write_config, monkeypatch) -> None:
    raw = write_config(cfg, {"auths": {}})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, filelock\n"
            "with filelock.FileLock(sys.argv[1]):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(30)\n",
            f"{cfg}.lock",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(config_module, "LOCK_TIMEOUT", 0.5)
        started = time.monotonic()
        with pytest.raises(DockerConfigError) as err:
            store_credentials("r.io", Credentials("u", "p"), cfg)
        assert time.monotonic() - started < 5
        assert "Timed out" in str(err.value) and f"{cfg}.lock" in str(err.value)
        assert cfg.read_bytes() == raw
    finally:
        holder.kill()
        holder.wait()


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials("alice", "hunter2", "tok-xyz"))
    assert "alice" in text and "hunter2" not in text and "tok-xyz" not in text
    assert "hunter2" not in str(Credentials("alice", "hunter2"))
    assert repr(Credentials("alice")) == "Credentials(username='alice', password=None, identity_token=None)"


def test_username_with_colon_is_rejected(cfg: Path) -> None:
    with pytest.raises(DockerConfigError, match="':'"):
        store_credentials("r.io", Credentials("a:b", "p"), cfg)
    assert not cfg.exists()


def test_storing_nothing_is_rejected(cfg: Path) -> None:
    with pytest.raises(DockerConfigError):
        store_credentials("r.io", Credentials(), cfg)


@pytest.mark.parametrize("server", ["", "https://", "/v2/"])
def test_empty_server_name_is_rejected(cfg: Path, server: str) -> None:
    with pytest.raises(DockerConfigError):
        store_credentials(server, Credentials("u", "p"), cfg)


def test_normalize_server_strips_scheme_and_path() -> None:
    assert normalize_server("https://myreg.azurecr.io/v2/") == "myreg.azurecr.io"
    assert normalize_server("localhost:5000") == "localhost:5000"


def test_list_servers_lists_auths_entries_with_credentials(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"a.io": {"auth": b64("u:p")}, "b.io": {}, "c.io": {"identitytoken": "t"}}})
    assert list_servers(cfg) == ["a.io", "c.io"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    username=st.text(min_size=1, max_size=30).filter(lambda s: ":" not in s),
    password=st.text(max_size=60),
    token=st.none() | st.text(min_size=1, max_size=60),
)
def test_any_credentials_round_trip_through_auths(
    tmp_path: Path, username: str, password: str, token
) -> None:
    path = tmp_path / "rt" / "config.json"
    store_credentials("r.io", Credentials(username, password, token), path)
    assert get_credentials("r.io", path) == Credentials(username, password or None, token)
