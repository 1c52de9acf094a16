"""Fixtures for the emulator tests; the helpers live in emulator_helpers.py."""

from __future__ import annotations

import uuid

import pytest
from emulator_helpers import Registry, make_registry


@pytest.fixture
def registry(emulator) -> Registry:
    return make_registry(emulator)


@pytest.fixture
def repo() -> str:
    """A repository name of the test's own, so tests sharing one emulator do not collide."""
    return f"test/{uuid.uuid4().hex[:12]}"
