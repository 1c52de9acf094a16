"""The ``acr`` fixture lives in tests/conftest.py; AcrRunner and Result in tests/acrtest.py."""

from acrtest import AcrRunner, Result  # noqa: F401 - re-exported for tests that import them from here
