"""Docker ``config.json`` credentials without Docker: locate, read, and safely update the file.

Self-contained on purpose (standard library plus ``filelock``), so login, logout and every data
command can share one careful implementation of docker's lookup rules and write discipline.
"""

from .config import config_dir, config_path, load_config, update_config
from .credentials import (
    Credentials,
    check_can_store,
    erase_credentials,
    get_credentials,
    list_servers,
    normalize_server,
    store_credentials,
)
from .errors import DockerConfigError
from .helpers import TOKEN_USERNAME

__all__ = [
    "TOKEN_USERNAME",
    "Credentials",
    "DockerConfigError",
    "check_can_store",
    "config_dir",
    "config_path",
    "erase_credentials",
    "get_credentials",
    "list_servers",
    "load_config",
    "normalize_server",
    "store_credentials",
    "update_config",
]
