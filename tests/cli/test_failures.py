"""Bad input and failures: one clear line on stderr, the right exit code, nothing lost."""

from __future__ import annotations

import json


def test_wrong_client_secret_fails_clearly_and_leaves_config_untouched(acr):
    acr.docker_config.mkdir()
    original = json.dumps({"auths": {"other.example": {"auth": "dTpw"}}, "custom": True}, indent="\t")
    acr.config_file.write_text(original)
    result = acr("login", "-n", acr.server, env={"AZURE_CLIENT_SECRET": "wrong-secret"})
    assert result.code == 1
    assert "ERROR" in result.stderr and "invalid_client" in result.stderr
    assert "wrong-secret" not in result.stderr + result.stdout
    assert acr.config_file.read_text() == original


def test_corrupt_config_json_is_reported_and_left_as_it_was(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text('{"auths": {')
    result = acr("login", "-n", acr.server)
    assert result.code == 1
    assert "config.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert acr.config_file.read_text() == '{"auths": {'


def test_login_with_admin_user_and_password_stdin(acr):
    info = acr.emulator.info
    result = acr("login", "-n", acr.server, "-u", info["adminUsername"], "--password-stdin",
                 input=info["adminPassword"] + "\n")
    assert result.code == 0, result.stderr
    entry = json.loads(acr.config_file.read_text())["auths"][acr.server]
    assert "identitytoken" not in entry


def test_login_with_wrong_password_exits_1_and_writes_nothing(acr):
    result = acr("login", "-n", acr.server, "-u", acr.emulator.info["adminUsername"], "-p", "nope")
    assert result.code == 1
    assert not acr.config_file.exists()


def test_unreachable_registry_is_one_line_error(acr):
    result = acr("repository", "show", "-n", "localhost:1", "--repository", "x")
    assert result.code == 1
    assert "Could not connect" in result.stderr


def test_invalid_names_are_rejected_before_any_request(acr):
    for args in (["repository", "show", "-n", "a/b", "--repository", "x"],
                 ["repository", "show", "-n", acr.server, "--image", "UPPER:tag"],
                 ["artifact", "push", "not a reference", "f"],
                 ["repository", "show", "-n", acr.server]):
        result = acr(*args)
        assert result.code == 1, (args, result)
        assert result.stderr.startswith("ERROR:"), (args, result.stderr)


def test_usage_errors_exit_2(acr):
    assert acr("repository", "show").code == 2
    assert acr("repository", "show-tags", "-n", acr.server, "--repository", "r", "--top", "x").code == 2


def test_debug_output_never_contains_secrets(acr):
    login = acr("login", "-n", acr.server, "--debug")
    assert login.code == 0, login.stderr
    token = json.loads(acr.config_file.read_text())["auths"][acr.server]["identitytoken"]
    (acr.home / "f.txt").write_text("x")
    push = acr("artifact", "push", f"{acr.server}/debug/secrets:v1", "./f.txt", "--debug")
    assert push.code == 0, push.stderr
    everything = login.stdout + login.stderr + push.stdout + push.stderr
    for secret in (token, acr.emulator.info["clientSecret"], acr.emulator.info["adminPassword"]):
        assert secret not in everything
    assert "Bearer ey" not in everything
