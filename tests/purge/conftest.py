from __future__ import annotations

import uuid

import pytest
from seed import Seeder


@pytest.fixture
def seed(emulator) -> Seeder:
    return Seeder(emulator)


@pytest.fixture
def prefix() -> str:
    """A repository prefix of the test's own, so catalog-wide filters see only its repositories."""
    return f"purge{uuid.uuid4().hex[:8]}"
