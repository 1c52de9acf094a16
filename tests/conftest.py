"""Shared fixtures: real servers on loopback, started per test session or per test.

The emulator runs as a real subprocess (`python -m azext_acr.emulator`) on port 0; its one-line
JSON ready message tells the tests where it listens and which dev credentials it accepts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Iterator[Emulator]:
    """One emulator for the whole session, with on-disk storage in a temporary directory."""
    emu = start_emulator(data_dir=tmp_path_factory.mktemp("emulator-data"))
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(tmp_path) -> Iterator[Emulator]:
    """An emulator of the test's own, for tests that change registry-wide state."""
    emu = start_emulator(data_dir=tmp_path / "emulator-data")
    yield emu
    emu.stop()
