"""Fixtures for the identity tests: the real acr CLI and real MSAL against the emulator's AAD."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def launch(request):
    """`launch(*args)`: tests/conftest.py's `start_emulator`, stopped at teardown."""
    root = Path(__file__).resolve().parent.parent / "conftest.py"
    start = next(plugin.start_emulator for plugin in request.config.pluginmanager.get_plugins()
                 if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == root)
    started = []

    def run(*args: str, data_dir: Path | None = None):
        emu = start(*args, data_dir=data_dir)
        started.append(emu)
        return emu

    yield run
    for emu in started:
        emu.stop()
