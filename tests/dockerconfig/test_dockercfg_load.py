"""Loading: a config shared with other tools must be read strictly but never damaged on error."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azext_acr.dockerconfig import (
    Credentials,
    DockerConfigError,
    config_dir,
    config_path,
    get_credentials,
    load_config,
    store_credentials,
)


def test_missing_file_loads_as_empty_config(cfg: Path) -> None:
    assert load_config(cfg) == {}
    assert not cfg.exists()


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_file_loads_as_empty_config_like_docker(cfg: Path, content: bytes) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(content)
    assert load_config(cfg) == {}


def test_utf8_bom_is_tolerated(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(b'\xef\xbb\xbf{"auths": {}}')
    assert load_config(cfg) == {"auths": {}}


def test_invalid_json_error_names_file_and_position(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(b'{\n\t"auths": {\n\t\t"x": ,\n}')
    with pytest.raises(DockerConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert str(cfg) in message
    assert "not valid JSON (line 3, column 8)" in message
    assert "fix or remove it" in message
    assert "\n" not in message


def test_non_utf8_file_is_a_config_error(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(b'{"auths": "\xff\xfe"}')
    with pytest.raises(DockerConfigError, match="not UTF-8"):
        load_config(cfg)


def test_unreadable_path_is_a_config_error(cfg: Path) -> None:
    cfg.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(DockerConfigError, match="cannot be read"):
        load_config(cfg)


def test_deeply_nested_json_is_a_config_error_not_recursion_error(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(DockerConfigError):
        load_config(cfg)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "JSON array at the top level"),
        ("auths", "JSON string at the top level"),
        ({"auths": []}, '"auths" of type array'),
        ({"auths": {"r.io": "dXNlcjpwdw=="}}, "auths entry 'r.io' of type string"),
        ({"auths": {"r.io": {"auth": 5}}}, '"auth" of type number'),
        ({"auths": {"r.io": {"identitytoken": {"a": 1}}}}, '"identitytoken" of type object'),
        ({"credHelpers": ["r.io"]}, '"credHelpers" of type array'),
        ({"credHelpers": {"r.io": True}}, "credHelpers entry 'r.io' of type boolean"),
        ({"credsStore": 1}, '"credsStore" of type number'),
    ],
)
def test_wrong_types_are_config_errors(cfg: Path, write_config, data: object, fragment: str) -> None:
    write_config(cfg, data)
    with pytest.raises(DockerConfigError) as err:
        load_config(cfg)
    assert fragment in str(err.value)
    assert str(cfg) in str(err.value)


def test_null_sections_are_treated_as_absent_like_docker(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": None, "credHelpers": None, "credsStore": None})
    assert get_credentials("r.io", cfg) is None
    store_credentials("r.io", Credentials("u", "p"), cfg)
    assert get_credentials("r.io", cfg) == Credentials("u", "p")


@pytest.mark.parametrize(
    "raw",
    [b'{"auths": {', b"[1, 2]", b'{"auths": {"r.io": {"auth": 7}}}', b"\x00\x01garbage"],
)
def test_store_refuses_to_touch_a_corrupt_file(cfg: Path, raw: bytes) -> None:
    cfg.parent.mkdir()
    cfg.write_bytes(raw)
    os.chmod(cfg, 0o644)
    before = cfg.stat()
    with pytest.raises(DockerConfigError):
        store_credentials("r.io", Credentials("u", "p"), cfg)
    assert cfg.read_bytes() == raw
    after = cfg.stat()
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino,
        before.st_mode,
        before.st_mtime_ns,
    )
    assert sorted(p.name for p in cfg.parent.iterdir() if not p.name.endswith(".lock")) == ["config.json"]


def test_docker_config_env_var_sets_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "elsewhere"))
    assert config_dir() == tmp_path / "elsewhere"
    assert config_path() == tmp_path / "elsewhere" / "config.json"
    store_credentials("r.io", Credentials("u", "p"))  # default path follows the variable
    assert json.loads((tmp_path / "elsewhere" / "config.json").read_text())["auths"]["r.io"]["auth"]
    assert get_credentials("r.io") == Credentials("u", "p")


def test_default_config_is_under_home_without_docker_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path() == tmp_path / ".docker" / "config.json"


def _load_bytes(raw: bytes) -> None:
    """load_config on a file holding ``raw``: a dict or DockerConfigError, and the file unchanged."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_bytes(raw)
        try:
            result = load_config(path)
        except DockerConfigError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(result, dict)
        assert path.read_bytes() == raw


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_arbitrary_bytes_load_as_dict_or_config_error(raw: bytes) -> None:
    _load_bytes(raw)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_config_like = st.dictionaries(
    st.sampled_from(["auths", "credHelpers", "credsStore", "HttpHeaders", "other"]),
    _json_values | st.dictionaries(st.sampled_from(["r.io", "https://r.io/"]), _json_values, max_size=2),
    max_size=4,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_json_values | _config_like)
def test_arbitrary_json_loads_as_dict_or_config_error(value: object) -> None:
    _load_bytes(json.dumps(value).encode())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_config_like)
def test_lookup_on_arbitrary_config_returns_or_raises_config_error(value: object) -> None:
    """get_credentials never crashes with a non-config error on odd (helper-free) content."""
    if isinstance(value, dict):
        value.pop("credHelpers", None)
        value.pop("credsStore", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(value))
        try:
            result = get_credentials("r.io", path)
        except DockerConfigError:
            return
        assert result is None or isinstance(result, Credentials)
