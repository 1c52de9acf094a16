"""Shared pieces of the benchmarks: an emulator to measure against, the real az, timing."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PY = ROOT / ".venv" / "bin" / "python"
AZ_VENV = ROOT / ".bench" / "az"
AZ = AZ_VENV / "bin" / "az"
sys.path.insert(0, str(ROOT / "tests"))


def compile_bytecode() -> None:
    """pip compiles bytecode for az's packages; the editable acr install needs it done by hand."""
    subprocess.run([str(VENV_PY), "-m", "compileall", "-q", str(ROOT / "azext_acr")], check=True,
                   stdout=subprocess.DEVNULL)


compile_bytecode()


class Emulator:
    """acr-emulator in a subprocess, on a free port, with its data in a temporary directory."""

    def __init__(self, *args: str):
        self.dir = Path(tempfile.mkdtemp(prefix="acr-bench-"))
        self.proc = subprocess.Popen([str(VENV_PY), "-m", "azext_acr.emulator", "--port", "0", "--quiet",
                                      "--data-dir", str(self.dir / "data"), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.url, self.login_server, self.ca_cert = self.info["url"], self.info["loginServer"], self.info["caCertPath"]

    @property
    def admin(self) -> tuple[str, str]:
        return self.info["adminUsername"], self.info["adminPassword"]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def ensure_az() -> Path:
    """The real Azure CLI in its own venv (.bench/az), installed from PyPI on first use."""
    if not AZ.exists():
        print("installing azure-cli into .bench/az (one time, a few minutes)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AZ_VENV)], check=True)
        subprocess.run([str(AZ_VENV / "bin" / "pip"), "install", "-q", "azure-cli"], check=True)
    return AZ


def az_env(emulator: Emulator, home: Path) -> dict[str, str]:
    """An isolated az config that knows the emulator as a cloud whose ACR suffix is ':<port>'."""
    env = dict(os.environ, AZURE_CONFIG_DIR=str(home / "azure"), REQUESTS_CA_BUNDLE=emulator.ca_cert,
               AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_SURVEY_MESSAGE="false",
               AZURE_CORE_ONLY_SHOW_ERRORS="true", AZURE_CORE_NO_COLOR="true")
    port = emulator.login_server.rsplit(":", 1)[1]
    commands = [
        ["cloud", "register", "-n", "AcrEmulator", "--endpoint-resource-manager", emulator.url + "/",
         "--endpoint-active-directory", emulator.url,
         "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
         "--suffix-acr-login-server-endpoint", f":{port}", "--skip-endpoint-discovery"],
        ["cloud", "set", "-n", "AcrEmulator"],
        ["config", "set", "core.instance_discovery=false"],
    ]
    for command in commands:
        subprocess.run([str(ensure_az()), *command], env=env, check=True, capture_output=True)
    return env


def acr_env(emulator: Emulator, home: Path) -> dict[str, str]:
    return dict(os.environ, REQUESTS_CA_BUNDLE=emulator.ca_cert, DOCKER_CONFIG=str(home / "docker"),
                ACR_CONFIG_DIR=str(home / "acr"), HOME=str(home))


def acr_cmd(*args: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "acr"), *args]


def timed(command: list[str], env: dict, repeat: int = 1, check: bool = True) -> list[float]:
    """Wall seconds of each run of a whole command (interpreter start-up included)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])}... failed: {proc.stderr.strip()[:500]}")
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False))  # noqa: E731
    return "\n".join([line(headers), line(tuple("-" * w for w in widths))] + [line(r) for r in rows])
