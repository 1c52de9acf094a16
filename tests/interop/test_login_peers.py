"""Peers pull with what ``acr login`` leaves behind, and through ``docker-credential-acr``.

skopeo (Debian) and oras-py (PyPI ``oras``) get nothing but a config file: no Azure variables, no acr
code in their process. The credential helper is also driven directly, as docker would, to show the
protocol answers and that a token near its ``exp`` is never handed out.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

NULL_GUID = "00000000-0000-0000-0000-000000000000"
CONTENT = "pulled by a peer\n"
AZURE_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
                   "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH")


@pytest.fixture
def fixtures(request):
    """The server helpers of tests/servers.py (start_emulator, start_docker_registry, require_peer, ...)."""
    import servers

    return servers


def helper_bin() -> Path:
    """The venv's bin directory, where ``pip install -e .`` put docker-credential-acr."""
    directory = Path(sys.executable).parent
    if not (directory / "docker-credential-acr").exists():
        pytest.fail("docker-credential-acr is not installed next to the interpreter: run scripts/test")
    return directory


def peer_env(home: Path, extra_path: Path | None = None, **extra: str) -> dict[str, str]:
    """A peer's environment: its own HOME, no Azure sign-in variables, nothing acr-specific."""
    env = {k: v for k, v in os.environ.items() if k not in AZURE_VARIABLES and k not in
           ("DOCKER_CONFIG", "REQUESTS_CA_BUNDLE", "ACR_CONFIG_DIR")}
    env["HOME"] = str(home)
    if extra_path is not None:
        env["PATH"] = f"{extra_path}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def push_artifact(acr, repo: str) -> str:
    (acr.home / "peer.txt").write_text(CONTENT)
    ref = f"{acr.server}/{repo}:v1"
    pushed = acr("artifact", "push", ref, "./peer.txt:text/plain")
    assert pushed.code == 0, pushed.stderr
    (acr.home / "peer.txt").unlink()
    return ref


def cert_dir(acr) -> Path:
    directory = acr.home / "certs"
    directory.mkdir(exist_ok=True)
    shutil.copy(acr.emulator.ca_cert, directory / "ca.crt")
    return directory


def skopeo_copy(fixtures, acr, ref: str, authfile: Path, env: dict) -> Path:
    skopeo = fixtures.require_peer("skopeo")
    out = acr.home / f"skopeo-{time.monotonic_ns()}"
    proc = subprocess.run([skopeo, "copy", "--authfile", str(authfile), "--src-cert-dir", str(cert_dir(acr)),
                           f"docker://{ref}", f"dir:{out}"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


ORAS_PULL = textwrap.dedent("""
    import json, sys
    import oras.client
    server, ref, config, ca, outdir = sys.argv[1:]
    client = oras.client.OrasClient(hostname=server, tls_verify=ca)
    print(json.dumps(client.pull(target=ref, config_path=config, outdir=outdir)))
""")


def oras_pull(acr, ref: str, config: Path, env: dict) -> Path:
    out = acr.home / f"oras-{time.monotonic_ns()}"
    proc = subprocess.run([sys.executable, "-c", ORAS_PULL, acr.server, ref, str(config), acr.emulator.ca_cert,
                           str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [path] = json.loads(proc.stdout)
    assert Path(path).read_text() == CONTENT
    return out


def blobs_in(directory: Path) -> set[str]:
    return {p.read_text(errors="replace") for p in directory.iterdir() if p.is_file()}


# -- the config.json that acr login wrote ---------------------------------------------------------

@pytest.mark.parametrize("how", ["aad", "admin"])
def test_skopeo_pulls_with_only_the_config_acr_login_wrote(fixtures, acr, how):
    ref = push_artifact(acr, f"peers/skopeo-{how}")
    args = [] if how == "aad" else ["-u", acr.emulator.info["adminUsername"], "-p", acr.emulator.info["adminPassword"]]
    assert acr("login", "-n", acr.server, *args).code == 0
    out = skopeo_copy(fixtures, acr, ref, acr.config_file, peer_env(acr.home))
    assert CONTENT in blobs_in(out)


@pytest.mark.parametrize("how", ["aad", "admin"])
def test_oras_py_pulls_with_only_the_config_acr_login_wrote(acr, how):
    ref = push_artifact(acr, f"peers/oras-{how}")
    args = [] if how == "aad" else ["-u", acr.emulator.info["adminUsername"], "-p", acr.emulator.info["adminPassword"]]
    assert acr("login", "-n", acr.server, *args).code == 0
    oras_pull(acr, ref, acr.config_file, peer_env(acr.home))


# -- credHelpers → docker-credential-acr ----------------------------------------------------------

def helper_config(acr) -> Path:
    path = acr.home / "helper-config" / "config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"credHelpers": {acr.server: "acr"}}))
    return path


def helper_env(acr, **extra: str) -> dict[str, str]:
    """What the helper needs: the Azure identity, the emulator's CA, and its cache directory."""
    env = acr.emulator.env(HOME=str(acr.home), ACR_CONFIG_DIR=str(acr.home / "helper-acr"))
    env["PATH"] = f"{helper_bin()}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_skopeo_pulls_through_cred_helpers_acr_without_any_login(fixtures, acr):
    ref = push_artifact(acr, "peers/skopeo-helper")
    out = skopeo_copy(fixtures, acr, ref, helper_config(acr), helper_env(acr))
    assert CONTENT in blobs_in(out)
    assert (acr.home / "helper-acr" / "docker-credential-acr.json").exists()
    assert not acr.config_file.exists()


def test_oras_py_pulls_through_cred_helpers_acr_without_any_login(acr):
    ref = push_artifact(acr, "peers/oras-helper")
    oras_pull(acr, ref, helper_config(acr), helper_env(acr))
    cache = json.loads((acr.home / "helper-acr" / "docker-credential-acr.json").read_text())
    assert list(cache["servers"]) == [acr.server]


# -- the helper protocol, as docker drives it ------------------------------------------------------

def helper(acr, action: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(helper_bin() / "docker-credential-acr"), action], input=stdin,
                          env=env or helper_env(acr), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def cache_file(acr) -> Path:
    return acr.home / "helper-acr" / "docker-credential-acr.json"


def test_helper_get_answers_null_guid_and_a_fresh_refresh_token_then_reuses_it(acr):
    first = helper(acr, "get", acr.server + "\n")
    assert first.returncode == 0, first.stdout
    answer = json.loads(first.stdout)
    assert answer["ServerURL"] == acr.server and answer["Username"] == NULL_GUID
    token = answer["Secret"]
    assert claims(token)["aud"] == acr.server and claims(token)["exp"] > time.time() + 3600
    assert stat.S_IMODE(cache_file(acr).stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_file(acr).parent.stat().st_mode) == 0o700
    cached = cache_file(acr).read_bytes()

    # a second call (even spelled as a URL) reuses the cached token without signing in again
    again = helper(acr, "get", f"https://{acr.server}/v2/", env=helper_env(acr, AZURE_CLIENT_SECRET="wrong"))
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["Secret"] == token
    assert cache_file(acr).read_bytes() == cached

    listed = helper(acr, "list")
    assert json.loads(listed.stdout) == {acr.server: NULL_GUID}


def test_helper_never_hands_out_an_expired_cached_token(acr):
    token = json.loads(helper(acr, "get", acr.server).stdout)["Secret"]
    data = json.loads(cache_file(acr).read_text())
    data["servers"][acr.server]["expiresAt"] = int(time.time()) - 5  # as if it had lived its 3 hours
    cache_file(acr).write_text(json.dumps(data))
    fresh = json.loads(helper(acr, "get", acr.server).stdout)["Secret"]
    assert fresh != token and claims(fresh)["exp"] > time.time() + 3600
    assert json.loads(cache_file(acr).read_text())["servers"][acr.server]["refreshToken"] == fresh


def test_helper_renews_a_real_short_lived_token_before_it_expires(fixtures, acr, tmp_path):
    emulator = fixtures.start_emulator("--quiet", "--refresh-token-ttl", "4", data_dir=tmp_path / "short-ttl")
    try:
        server = emulator.login_server
        env = emulator.env(HOME=str(acr.home), ACR_CONFIG_DIR=str(acr.home / "helper-acr"))
        first = json.loads(helper(acr, "get", server, env=env).stdout)["Secret"]
        assert json.loads(helper(acr, "get", server, env=env).stdout)["Secret"] == first  # 4 s left, margin 1 s
        exp = claims(first)["exp"]
        time.sleep(max(0.0, exp - 1 - time.time()) + 0.2)  # now within the last quarter of its life
        second = json.loads(helper(acr, "get", server, env=env).stdout)["Secret"]
        assert second != first and claims(second)["exp"] > exp
        assert claims(second)["exp"] - time.time() > 1
    finally:
        emulator.stop()


def test_helper_mints_again_for_another_identity(acr):
    token = json.loads(helper(acr, "get", acr.server).stdout)["Secret"]
    other = helper(acr, "get", acr.server, env=helper_env(acr, AZURE_TENANT_ID="another-tenant"))
    assert other.returncode == 1  # a cached token of another identity is not handed out
    assert token not in other.stdout


def test_concurrent_gets_mint_one_token(acr):
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: helper(acr, "get", acr.server), range(6)))
    assert all(a.returncode == 0 for a in answers), [a.stdout for a in answers]
    assert len({json.loads(a.stdout)["Secret"] for a in answers}) == 1
    json.loads(cache_file(acr).read_text())  # one valid file


def test_helper_store_is_a_no_op_and_erase_forgets_the_cached_token(acr):
    token = json.loads(helper(acr, "get", acr.server).stdout)["Secret"]
    stored = helper(acr, "store", json.dumps({"ServerURL": acr.server, "Username": "u", "Secret": "s"}))
    assert stored.returncode == 0 and stored.stdout == ""
    assert json.loads(helper(acr, "get", acr.server).stdout)["Secret"] == token
    erased = helper(acr, "erase", acr.server)
    assert erased.returncode == 0 and erased.stdout == ""
    assert json.loads(helper(acr, "list").stdout) == {}
    assert json.loads(helper(acr, "get", acr.server).stdout)["Secret"] != token
    assert helper(acr, "version").stdout.startswith("docker-credential-acr")


def run_failing_helper(acr, args: list[str], stdin: str, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(helper_bin() / "docker-credential-acr"), *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert len(proc.stdout.strip().splitlines()) == 1, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    for secret in ("wrong-secret", acr.emulator.info["clientSecret"], "eyJ"):
        assert secret not in proc.stdout + proc.stderr
    assert not cache_file(acr).exists() or acr.server not in cache_file(acr).read_text()
    return proc


@pytest.mark.parametrize("case", ["unreachable", "wrong-secret", "no-identity", "no-server", "bad-action"])
def test_helper_failures_are_one_line_on_stdout_with_non_zero_exit(acr, case):
    args, stdin, env = ["get"], acr.server, helper_env(acr)
    if case == "unreachable":
        stdin = "localhost:1"
    elif case == "wrong-secret":
        env["AZURE_CLIENT_SECRET"] = "wrong-secret"
    elif case == "no-identity":
        for name in AZURE_VARIABLES:
            env.pop(name, None)
        # keep the chain off the managed-identity source: it would probe IMDS at 169.254.169.254
        env["ACR_IDENTITY"] = "environment,workload,account,azurecli"
    elif case == "no-server":
        stdin = "\n"
    elif case == "bad-action":
        args = ["frobnicate"]
    proc = run_failing_helper(acr, args, stdin, env)
    expected = {"unreachable": "Could not connect", "wrong-secret": "invalid_client",
                "no-identity": "No Azure AD identity", "no-server": "No registry server", "bad-action": "Usage"}
    assert expected[case] in proc.stdout


def test_helper_refuses_a_registry_without_azure_ad_login(acr, docker_registry):
    env = helper_env(acr, ACR_PLAIN_HTTP="1")
    proc = run_failing_helper(acr, ["get"], docker_registry.login_server, env)
    assert "does not offer Azure AD login" in proc.stdout


def test_acr_login_with_cred_helpers_acr_checks_the_login_and_stores_nothing(acr):
    acr.docker_config.mkdir()
    acr.config_file.write_text(json.dumps({"credHelpers": {acr.server: "acr"}}))
    result = acr("login", "-n", acr.server, env={"PATH": helper_env(acr)["PATH"]})
    assert result.code == 0, result.stderr
    assert "mints its own tokens" in result.stderr
    assert json.loads(acr.config_file.read_text()) == {"credHelpers": {acr.server: "acr"}, "auths": {acr.server: {}}}
