"""Run the real ``acr`` as a subprocess against the emulator, as a user or a CI job would."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)


class AcrRunner:
    """Runs ``acr`` with an isolated Docker config and acr config dir, signed in as the dev principal."""

    timeout = 120  # seconds per command; the fault run raises it

    def __init__(self, emulator, home: Path):
        self.emulator = emulator
        self.home = home
        self.docker_config = home / "docker"
        self.env = emulator.env(DOCKER_CONFIG=str(self.docker_config), ACR_CONFIG_DIR=str(home / "acr"),
                                HOME=str(home))

    @property
    def server(self) -> str:
        return self.emulator.login_server

    @property
    def config_file(self) -> Path:
        return self.docker_config / "config.json"

    def __call__(self, *args: str, env: dict | None = None, input: str | None = None, cwd=None) -> Result:
        merged = dict(self.env)
        merged.update(env or {})
        merged = {k: v for k, v in merged.items() if v is not None}
        proc = subprocess.run([sys.executable, "-m", "azext_acr.cli.main", *args], env=merged, input=input,
                              capture_output=True, text=True, cwd=cwd or self.home, timeout=self.timeout)
        assert "Traceback" not in proc.stderr, proc.stderr
        return Result(proc.returncode, proc.stdout, proc.stderr)
