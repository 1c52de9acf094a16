"""Shared fixtures: real servers on loopback, started per test session or per test.

The servers themselves live in tests/servers.py (importable from any test module); the real
``acr`` CLI runner in tests/acrtest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import DockerRegistry, Emulator, start_docker_registry, start_emulator


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


@pytest.fixture
def launch():
    """``launch(*args, data_dir=None)``: an emulator with the test's own options, stopped at teardown."""
    started: list[Emulator] = []

    def run(*args: str, data_dir=None) -> Emulator:
        emu = start_emulator(*args, data_dir=data_dir)
        started.append(emu)
        return emu

    yield run
    for emu in started:
        emu.stop()


@pytest.fixture
def docker_registry(tmp_path) -> Iterator[DockerRegistry]:
    """Debian's docker-registry without auth, plain http on loopback."""
    registry = start_docker_registry(tmp_path / "docker-registry")
    yield registry
    registry.process.terminate()
    registry.process.wait(timeout=10)


@pytest.fixture
def acr(emulator, tmp_path):
    """``acr(*args, env=..., input=...)``: the real CLI with an isolated Docker config and HOME."""
    from acrtest import AcrRunner

    return AcrRunner(emulator, tmp_path)
