"""``acr login`` / ``acr logout`` as users run them: no Docker daemon, any credential store, honest exit codes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

NULL_GUID = "00000000-0000-0000-0000-000000000000"
# Where a test removes the service principal, keep the identity chain off the managed-identity source:
# it would probe IMDS at 169.254.169.254, and tests send traffic to loopback only.
NO_IMDS = {"ACR_IDENTITY": "environment,workload,account,azurecli"}


@pytest.fixture
def fixtures(request):
    """The server helpers of tests/servers.py (start_emulator, start_docker_registry, require_peer, ...)."""
    import servers

    return servers


def entry_of(acr, server=None):
    return json.loads(acr.config_file.read_text())["auths"][server or acr.server]


def decoded_auth(entry) -> tuple[str, str]:
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return user, password


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def write_script(path: Path, body: str) -> Path:
    path.write_text("#!/usr/bin/env python3\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def with_path(directory: Path) -> dict[str, str]:
    return {"PATH": f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"}


# -- the Docker config, written directly ---------------------------------------------------------

def test_login_writes_identitytoken_and_null_guid_auth_under_docker_config(acr):
    result = acr("login", "-n", acr.server)
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert "Login Succeeded" in result.stderr
    entry = entry_of(acr)
    assert decoded_auth(entry) == (NULL_GUID, entry["identitytoken"])
    assert jwt_claims(entry["identitytoken"])["aud"] == acr.server
    assert stat.S_IMODE(acr.config_file.stat().st_mode) == 0o600
    assert not (acr.home / ".docker").exists()  # DOCKER_CONFIG wins over ~/.docker


def test_login_keeps_other_registries_and_unknown_keys(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"auths": {"other.example": {"auth": "dTpw", "email": "e@x"}},
                                           "psFormat": "table {{.ID}}"}))
    assert acr("login", "-n", acr.server).code == 0
    config = json.loads(acr.config_file.read_text())
    assert config["psFormat"] == "table {{.ID}}"
    assert config["auths"]["other.example"] == {"auth": "dTpw", "email": "e@x"}
    assert "identitytoken" in config["auths"][acr.server]


def test_bare_registry_name_resolves_with_the_cloud_suffix_like_az(acr):
    """az's trick for local clouds: name ``localhost`` + login-server suffix ``:PORT``."""
    port = acr.server.rsplit(":", 1)[1]
    result = acr("login", "-n", "localhost", "-g", "ignored-group", env={"ACR_LOGIN_SERVER_SUFFIX": f":{port}"})
    assert result.code == 0, result.stderr
    assert "deprecated" not in result.stderr
    assert entry_of(acr, f"localhost:{port}")["identitytoken"]


def test_login_with_admin_password_is_verified_then_stored_as_user_and_password(acr):
    info = acr.emulator.info
    result = acr("login", "-n", acr.server, "-u", info["adminUsername"], "-p", info["adminPassword"])
    assert result.code == 0, result.stderr
    entry = entry_of(acr)
    assert decoded_auth(entry) == (info["adminUsername"], info["adminPassword"])
    assert "identitytoken" not in entry


def test_login_with_password_stdin(acr):
    info = acr.emulator.info
    result = acr("login", "-n", acr.server, "-u", info["adminUsername"], "--password-stdin",
                 input=info["adminPassword"] + "\n")
    assert result.code == 0, result.stderr
    assert decoded_auth(entry_of(acr)) == (info["adminUsername"], info["adminPassword"])


def test_login_with_refresh_token_as_password_for_the_null_guid_user(acr):
    token = acr("login", "-n", acr.server, "--expose-token").json["refreshToken"]
    result = acr("login", "-n", acr.server, "-u", NULL_GUID, "--password-stdin", input=token + "\n")
    assert result.code == 0, result.stderr
    assert decoded_auth(entry_of(acr)) == (NULL_GUID, token)


def test_wrong_admin_password_is_refused_before_anything_is_written(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text('{"auths": {}}')
    result = acr("login", "-n", acr.server, "-u", acr.emulator.info["adminUsername"], "-p", "not-the-password")
    assert result.code == 1
    assert result.stderr.startswith("ERROR:") and "not-the-password" not in result.stderr
    assert acr.config_file.read_text() == '{"auths": {}}'


# -- --expose-token -------------------------------------------------------------------------------

def test_expose_token_prints_the_refresh_token_with_its_expiry_and_writes_no_file(acr):
    result = acr("login", "-n", acr.server, "-t")
    assert result.code == 0, result.stderr
    body = result.json
    assert sorted(body) == ["accessToken", "expiresOn", "loginServer", "refreshToken", "username"]
    assert body["accessToken"] == body["refreshToken"]
    assert body["loginServer"] == acr.server and body["username"] == NULL_GUID
    exp = jwt_claims(body["refreshToken"])["exp"]
    assert body["expiresOn"] == datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "ACR Refresh Token" in result.stderr
    assert not acr.docker_config.exists()


def test_expose_token_refuses_username_and_docker(acr):
    assert acr("login", "-n", acr.server, "-t", "-u", "x", "-p", "y").code == 1
    assert acr("login", "-n", acr.server, "-t", "--docker").code == 1
    assert not acr.docker_config.exists()


# -- logout ---------------------------------------------------------------------------------------

def test_logout_removes_only_that_registry(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"auths": {"keep.example": {"auth": "dTpw"}}}))
    assert acr("login", "-n", acr.server).code == 0
    result = acr("logout", "-n", acr.server)
    assert result.code == 0, result.stderr
    assert json.loads(acr.config_file.read_text())["auths"] == {"keep.example": {"auth": "dTpw"}}
    again = acr("logout", "-n", acr.server)
    assert again.code == 0 and "Not logged in" in again.stderr


def test_logout_resolves_name_and_suffix_like_login(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"auths": {"myregistry-contoso.azurecr.io": {"auth": "dTpw"}}}))
    result = acr("logout", "-n", "myregistry", "--suffix", "contoso")
    assert result.code == 0, result.stderr
    assert json.loads(acr.config_file.read_text())["auths"] == {}


# -- credential helpers ---------------------------------------------------------------------------

RECORDING_HELPER = """
    import json, os, sys
    store = os.environ["FAKE_HELPER_STORE"]
    data = json.load(open(store)) if os.path.exists(store) else {}
    action, text = sys.argv[1], sys.stdin.read()
    if action == "store":
        entry = json.loads(text)
        data[entry["ServerURL"]] = [entry["Username"], entry["Secret"]]
    elif action == "get":
        if text.strip() not in data:
            print("credentials not found in native keychain"); sys.exit(1)
        user, secret = data[text.strip()]
        print(json.dumps({"ServerURL": text.strip(), "Username": user, "Secret": secret}))
    elif action == "erase":
        if data.pop(text.strip(), None) is None:
            print("credentials not found in native keychain"); sys.exit(1)
    elif action == "list":
        print(json.dumps({k: v[0] for k, v in data.items()}))
    json.dump(data, open(store, "w"))
"""


@pytest.fixture
def recording_helper(acr):
    bin_dir = acr.home / "helper-bin"
    bin_dir.mkdir()
    write_script(bin_dir / "docker-credential-recording", RECORDING_HELPER)
    store = acr.home / "helper-store.json"
    env = {**with_path(bin_dir), "FAKE_HELPER_STORE": str(store)}
    return env, store


def test_cred_helpers_entry_gets_the_null_guid_user_and_refresh_token(acr, recording_helper):
    env, store = recording_helper
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"credHelpers": {acr.server: "recording"}}))
    result = acr("login", "-n", acr.server, env=env)
    assert result.code == 0, result.stderr
    user, secret = json.loads(store.read_text())[acr.server]
    assert user == NULL_GUID and jwt_claims(secret)["aud"] == acr.server
    assert secret not in acr.config_file.read_text()
    # data commands read it back through the helper
    (acr.home / "f.txt").write_text("via helper")
    pushed = acr("artifact", "push", f"{acr.server}/login/helper:v1", "./f.txt",
                 env={**env, **NO_IMDS, "AZURE_CLIENT_SECRET": None})
    assert pushed.code == 0, pushed.stderr
    assert acr("logout", "-n", acr.server, env=env).code == 0
    assert acr.server not in json.loads(store.read_text())


def test_missing_creds_store_helper_is_named_with_the_fix_and_nothing_is_written(acr):
    acr.docker_config.mkdir()
    original = json.dumps({"credsStore": "nosuchstore", "auths": {}})
    acr.config_file.write_text(original)
    for args in ([], ["-u", acr.emulator.info["adminUsername"], "-p", acr.emulator.info["adminPassword"]]):
        result = acr("login", "-n", acr.server, *args)
        assert result.code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR:")
        assert "docker-credential-nosuchstore" in lines[0] and "credsStore" in lines[0]
        assert "install it, or remove" in lines[0]
        assert acr.config_file.read_text() == original


def test_failing_helper_is_reported_without_echoing_the_secret(acr):
    bin_dir = acr.home / "bin"
    bin_dir.mkdir()
    write_script(bin_dir / "docker-credential-broken", """
        import sys
        sys.stdin.read()
        print("keychain is locked", file=sys.stderr)
        sys.exit(3)
    """)
    acr.docker_config.mkdir()
    original = json.dumps({"credHelpers": {acr.server: "broken"}})
    acr.config_file.write_text(original)
    info = acr.emulator.info
    result = acr("login", "-n", acr.server, "-u", info["adminUsername"], "-p", info["adminPassword"],
                 env=with_path(bin_dir))
    assert result.code == 1
    assert "docker-credential-broken store" in result.stderr and "keychain is locked" in result.stderr
    assert info["adminPassword"] not in result.stderr
    assert acr.config_file.read_text() == original


@pytest.fixture
def pass_store(fixtures):
    """A throw-away gpg key and password store for Debian's docker-credential-pass."""
    fixtures.require_peer("docker-credential-pass")
    fixtures.require_peer("pass")
    gpg = fixtures.require_peer("gpg")
    root = Path(tempfile.mkdtemp(prefix="acrpass"))  # short: gpg-agent's socket path has a length limit
    env = {"GNUPGHOME": str(root / "g"), "PASSWORD_STORE_DIR": str(root / "store")}
    (root / "g").mkdir(mode=0o700)
    full = {**os.environ, **env}
    subprocess.run([gpg, "--batch", "--passphrase", "", "--quick-gen-key", "acr test <acr-test@example.invalid>",
                    "default", "default", "never"], env=full, check=True, capture_output=True, timeout=60)
    subprocess.run(["pass", "init", "acr-test@example.invalid"], env=full, check=True, capture_output=True,
                   timeout=60)
    yield env
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=full, capture_output=True, timeout=30)
    shutil.rmtree(root, ignore_errors=True)


def test_creds_store_pass_keeps_the_token_in_the_password_store(acr, pass_store):
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"credsStore": "pass"}))
    result = acr("login", "-n", acr.server, env=pass_store)
    assert result.code == 0, result.stderr
    config = json.loads(acr.config_file.read_text())
    assert config == {"credsStore": "pass", "auths": {acr.server: {}}}

    full = {**os.environ, **pass_store}
    got = subprocess.run(["docker-credential-pass", "get"], input=acr.server, env=full, capture_output=True,
                         text=True, timeout=60)
    answer = json.loads(got.stdout)
    assert answer["Username"] == NULL_GUID and jwt_claims(answer["Secret"])["aud"] == acr.server
    assert answer["Secret"] not in result.stderr

    (acr.home / "f.txt").write_text("via pass")
    pushed = acr("artifact", "push", f"{acr.server}/login/pass:v1", "./f.txt",
                 env={**pass_store, **NO_IMDS, "AZURE_CLIENT_SECRET": None})
    assert pushed.code == 0, pushed.stderr

    assert acr("logout", "-n", acr.server, env=pass_store).code == 0
    listed = subprocess.run(["docker-credential-pass", "list"], env=full, capture_output=True, text=True, timeout=60)
    assert acr.server not in json.loads(listed.stdout or "{}")


# -- --docker / DOCKER_COMMAND --------------------------------------------------------------------

FAKE_DOCKER = """
    import json, os, sys
    secret = sys.stdin.read()
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
        log.write(json.dumps({"argv": sys.argv[1:], "stdin": secret}) + "\\n")
    if os.environ.get("FAKE_DOCKER_FAIL"):
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.", file=sys.stderr)
        sys.exit(1)
    print("Login Succeeded")
"""


@pytest.fixture
def fake_docker(acr):
    bin_dir = acr.home / "docker-bin"
    bin_dir.mkdir()
    write_script(bin_dir / "docker", FAKE_DOCKER)
    write_script(bin_dir / "podman", FAKE_DOCKER)
    log = acr.home / "docker.log"
    env = {**with_path(bin_dir), "FAKE_DOCKER_LOG": str(log)}
    return env, log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_docker_flag_runs_docker_login_with_the_token_on_stdin(acr, fake_docker):
    env, log = fake_docker
    result = acr("login", "-n", acr.server, "--docker", env=env)
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    token = entry_of(acr)["identitytoken"]
    [call] = calls(log)
    assert call["argv"] == ["login", "--username", NULL_GUID, "--password-stdin", acr.server]
    assert call["stdin"] == token + "\n"


def test_docker_command_env_picks_the_program_and_passes_user_and_password(acr, fake_docker):
    env, log = fake_docker
    info = acr.emulator.info
    result = acr("login", "-n", acr.server, "-u", info["adminUsername"], "--password-stdin",
                 input=info["adminPassword"] + "\n", env={**env, "DOCKER_COMMAND": "podman"})
    assert result.code == 0, result.stderr
    [call] = calls(log)
    assert call["argv"] == ["login", "--username", info["adminUsername"], "--password-stdin", acr.server]
    assert call["stdin"] == info["adminPassword"] + "\n"


def test_failing_docker_login_exits_1_and_leaves_config_untouched(acr, fake_docker):
    env, log = fake_docker
    result = acr("login", "-n", acr.server, "--docker", env={**env, "FAKE_DOCKER_FAIL": "1"})
    assert result.code == 1
    assert "Cannot connect to the Docker daemon" in result.stderr
    assert not acr.config_file.exists()


def test_docker_flag_without_docker_installed_is_a_clear_error(acr):
    empty = acr.home / "empty-bin"
    empty.mkdir()
    result = acr("login", "-n", acr.server, "--docker", env={"DOCKER_COMMAND": "no-such-docker"})
    assert result.code == 1
    assert "'no-such-docker' was not found on PATH" in result.stderr
    assert not acr.config_file.exists()


def test_corrupt_config_fails_before_docker_or_sign_in_runs(acr, fake_docker):
    env, log = fake_docker
    acr.docker_config.mkdir()
    acr.config_file.write_text('{"auths": [')
    result = acr("login", "-n", acr.server, "--docker", env=env)
    assert result.code == 1
    assert "config.json" in result.stderr and "not valid JSON" in result.stderr
    assert acr.config_file.read_text() == '{"auths": ['
    assert calls(log) == []


# -- failures always exit non-zero, secrets never printed -----------------------------------------

@pytest.mark.parametrize("case", ["wrong-secret", "unreachable", "wrong-password", "missing-helper",
                                  "no-identity", "bad-name"])
def test_every_failure_exits_non_zero_with_one_error_line(acr, case):
    info = acr.emulator.info
    args, env = ["login", "-n", acr.server], {}
    if case == "wrong-secret":
        env = {"AZURE_CLIENT_SECRET": "wrong-secret"}
    elif case == "unreachable":
        args = ["login", "-n", "localhost:1"]
    elif case == "wrong-password":
        args += ["-u", info["adminUsername"], "-p", "wrong"]
    elif case == "missing-helper":
        acr.docker_config.mkdir()
        acr.config_file.write_text(json.dumps({"credHelpers": {acr.server: "gone"}}))
    elif case == "no-identity":
        env = {**NO_IMDS, "AZURE_CLIENT_ID": None, "AZURE_CLIENT_SECRET": None}
    elif case == "bad-name":
        args = ["login", "-n", "a/b"]
    before = acr.config_file.read_text() if acr.config_file.exists() else None
    result = acr(*args, env=env)
    assert result.code == 1, (case, result)
    assert result.stdout == ""
    assert result.stderr.startswith("ERROR:"), result.stderr
    assert (acr.config_file.read_text() if acr.config_file.exists() else None) == before


def test_debug_output_never_shows_tokens_or_passwords(acr, recording_helper, fake_docker):
    info = acr.emulator.info
    runs = [acr("login", "-n", acr.server, "--debug", "--docker", env=fake_docker[0])]
    token = entry_of(acr)["identitytoken"]
    runs.append(acr("login", "-n", acr.server, "--debug", "-t"))
    exposed = runs[-1].json["refreshToken"]
    runs.append(acr("login", "-n", acr.server, "--debug", "-u", info["adminUsername"], "--password-stdin",
                    input=info["adminPassword"] + "\n"))
    acr.config_file.write_text(json.dumps({"credHelpers": {acr.server: "recording"}}))
    runs.append(acr("login", "-n", acr.server, "--debug", env=recording_helper[0]))
    helper_token = json.loads(recording_helper[1].read_text())[acr.server][1]
    for run in runs:
        assert run.code == 0, run.stderr
    logs = "".join(run.stderr for run in runs)
    assert "DEBUG" in logs
    for secret in (token, exposed, helper_token, info["adminPassword"], info["clientSecret"]):
        assert secret not in logs
    assert "Bearer ey" not in logs


# -- 50 logins at once to 50 registries, one config.json ------------------------------------------

class LoopbackAliases:
    """TCP forwarders on 127.0.0.2..N, same port as the emulator: 50 login servers, one emulator.

    The emulator binds 127.0.0.1 only; each alias is another loopback address whose connections are
    piped to it unchanged (TLS included), so the Host header, and with it the ACR service name, differ.
    """

    def __init__(self, port: int, count: int):
        self.port = port
        self.hosts = [f"127.0.0.{i}" for i in range(2, 2 + count)]
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.servers = [self.loop.run_until_complete(asyncio.start_server(self._handle, host, self.port))
                        for host in self.hosts]
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        def stop():
            for server in self.servers:
                server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)


@pytest.fixture
def many_registries(tmp_path, fixtures):
    """One emulator answering as 50 login servers 127.0.0.2:P .. 127.0.0.51:P (certificate for each)."""
    hosts = [f"127.0.0.{i}" for i in range(2, 52)]
    extra = [arg for host in hosts for arg in ("--tls-host", host)]
    emulator = fixtures.start_emulator("--quiet", *extra, data_dir=tmp_path / "many-emulator")
    try:
        with LoopbackAliases(emulator.info["port"], len(hosts)) as aliases:
            yield emulator, [f"{host}:{aliases.port}" for host in aliases.hosts]
    finally:
        emulator.stop()


def test_fifty_concurrent_logins_to_fifty_registries_share_one_valid_config(many_registries, tmp_path):
    emulator, servers = many_registries
    home = tmp_path / "home"
    home.mkdir()
    config = home / "docker" / "config.json"
    env = emulator.env(DOCKER_CONFIG=str(config.parent), ACR_CONFIG_DIR=str(home / "acr"), HOME=str(home))
    info = emulator.info

    def login(index_server):
        index, server = index_server
        if index % 2:  # half AAD (exchange), half admin user (password grant verification)
            args, stdin = ["login", "-n", server], None
        else:
            args, stdin = ["login", "-n", server, "-u", info["adminUsername"], "--password-stdin"], \
                info["adminPassword"] + "\n"
        return subprocess.run([sys.executable, "-m", "azext_acr.cli.main", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=180)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        results = list(pool.map(login, enumerate(servers)))
    elapsed = time.monotonic() - started
    failures = [(s, r.returncode, r.stderr) for s, r in zip(servers, results, strict=True) if r.returncode]
    assert not failures, failures[:3]

    auths = json.loads(config.read_text())["auths"]
    assert sorted(auths) == sorted(servers)
    for index, server in enumerate(servers):
        if index % 2:
            assert jwt_claims(auths[server]["identitytoken"])["aud"] == server
        else:
            assert decoded_auth(auths[server]) == (info["adminUsername"], info["adminPassword"])
    assert not list(config.parent.glob(".config.json.*.tmp"))
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    print(f"50 concurrent logins: {elapsed:.1f} s")
