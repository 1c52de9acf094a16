"""Peers (oras-py, skopeo, docker-registry) against acr: the same ``acr`` runner as tests/cli."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from acrtest import AcrRunner


@pytest.fixture
def acr(emulator, tmp_path) -> AcrRunner:
    return AcrRunner(emulator, tmp_path)


def _root_helpers():
    # The root conftest is imported by pytest as "conftest" too, which this file shadows; load it by path.
    spec = importlib.util.spec_from_file_location("acr_tests_root", Path(__file__).parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def skopeo() -> str:
    return _root_helpers().require_peer("skopeo")
