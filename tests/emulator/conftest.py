"""Fixtures for the emulator tests; the helpers live in emulator_helpers.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from emulator_helpers import Registry, make_registry


@pytest.fixture
def registry(emulator) -> Registry:
    return make_registry(emulator)


@pytest.fixture
def repo() -> str:
    """A repository name of the test's own, so tests sharing one emulator do not collide."""
    return f"test/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def launch(request):
    """`launch(*args, data_dir=None)`: tests/conftest.py's `start_emulator`, stopped at teardown.

    It is looked up among the loaded conftest plugins, because `import conftest` is ambiguous when
    several test directories have one.
    """
    root = Path(__file__).resolve().parent.parent / "conftest.py"
    start = next(
        plugin.start_emulator
        for plugin in request.config.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == root
    )
    started = []

    def run(*args: str, data_dir: Path | None = None):
        emu = start(*args, data_dir=data_dir)
        started.append(emu)
        return emu

    yield run
    for emu in started:
        emu.stop()
