"""Peers (oras-py, skopeo, docker-registry) against acr, with the same ``acr`` runner as tests/cli."""

from __future__ import annotations

import pytest
from servers import require_peer


@pytest.fixture
def skopeo() -> str:
    return require_peer("skopeo")
