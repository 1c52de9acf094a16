"""Real servers the tests talk to over loopback: acr-emulator and Debian's docker-registry.

Importable by any test module (``from servers import start_emulator``); tests/conftest.py turns
them into fixtures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

READY_TIMEOUT = 30


@dataclass
class Emulator:
    """A running acr-emulator process and what its ready line said."""

    process: subprocess.Popen
    info: dict
    data_dir: Path | None
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def login_server(self) -> str:
        return self.info["loginServer"]

    @property
    def ca_cert(self) -> str | None:
        return self.info.get("caCertPath")

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a client process: trusts the emulator's CA, signs in as the dev principal."""
        env = dict(os.environ)
        if self.ca_cert:
            env["REQUESTS_CA_BUNDLE"] = self.ca_cert
        env.update(
            AZURE_CLIENT_ID=self.info["clientId"],
            AZURE_CLIENT_SECRET=self.info["clientSecret"],
            AZURE_TENANT_ID=self.info["tenantId"],
            AZURE_AUTHORITY_HOST=self.info["authorityHost"],
        )
        env.update(extra)
        return env

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(*args: str, data_dir: Path | None = None) -> Emulator:
    """Start `acr-emulator` on a free port and wait for its ready line."""
    cmd = [sys.executable, "-m", "azext_acr.emulator", "--port", "0"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    else:
        cmd += ["--in-memory"]
    cmd += list(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    emulator = Emulator(process=proc, info={}, data_dir=data_dir)

    def drain_stderr() -> None:
        for line in proc.stderr:
            emulator.stderr_lines.append(line)

    threading.Thread(target=drain_stderr, daemon=True).start()

    ready: dict = {}

    def read_ready() -> None:
        line = proc.stdout.readline()
        if line:
            ready.update(json.loads(line))

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT)
    if not ready:
        proc.kill()
        proc.wait()
        raise RuntimeError("acr-emulator did not become ready:\n" + "".join(emulator.stderr_lines))
    emulator.info = ready
    return emulator


# -- Debian's docker-registry: a plain OCI registry peer ---------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_peer(binary: str) -> str:
    """The path of a peer program; a missing peer fails the run in CI and skips it elsewhere."""
    import shutil

    path = shutil.which(binary) or (f"/usr/bin/{binary}" if os.path.exists(f"/usr/bin/{binary}") else None)
    if path:
        return path
    message = f"{binary} is not installed (scripts/test installs it with apt-get)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class DockerRegistry:
    process: subprocess.Popen
    port: int
    root: Path

    @property
    def login_server(self) -> str:
        return f"localhost:{self.port}"


def start_docker_registry(root: Path, htpasswd: Path | None = None) -> DockerRegistry:
    """Start Debian's docker-registry (distribution v2) on a free loopback port, plain http."""
    import time

    binary = require_peer("docker-registry")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    auth = ""
    if htpasswd is not None:
        auth = f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {htpasswd}\n"
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        "log:\n  level: error\n" + auth)
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import requests

    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("docker-registry exited: " + proc.stderr.read().decode(errors="replace"))
        try:
            requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("docker-registry did not start")
    return DockerRegistry(proc, port, root)


# -- the real acr CLI, run as a subprocess ------------------------------------------------------


AZ = Path(__file__).resolve().parents[1] / ".bench" / "az" / "bin" / "az"


def require_az() -> Path:
    """The real Azure CLI that scripts/test installs into .bench/az: fails in CI when missing, skips elsewhere."""
    if AZ.exists():
        return AZ
    message = "the real az is not installed at .bench/az/bin/az (scripts/test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
