"""Where acr keeps its own files: ``ACR_CONFIG_DIR``, else ``~/.acr`` (never the Azure CLI's)."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    return Path(os.environ.get("ACR_CONFIG_DIR") or Path.home() / ".acr")
