"""Fixtures for the Docker config tests: a config path in tmp_path and a real fake credential helper.

The fake helper is an executable Python script named ``docker-credential-testhelper`` put first on
PATH, so the tests exercise the real subprocess protocol end to end. It keeps its entries in a JSON
file under tmp_path and logs each action it was asked to perform. Environment switches:
``TESTHELPER_FAIL=1`` makes it fail and echo its stdin (which holds the secret on ``store``) to
stderr; ``TESTHELPER_SLEEP=<s>`` makes it hang first.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HELPER_SOURCE = """#!{python}
import json, os, sys, time

STORE = {store!r}
NOT_FOUND = "credentials not found in native keychain"


def load():
    try:
        with open(STORE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {{}}


def save(data):
    with open(STORE, "w") as f:
        json.dump(data, f)


action = sys.argv[1] if len(sys.argv) > 1 else ""
stdin = sys.stdin.read()
with open(STORE + ".log", "a") as log:
    log.write(action + "\\n")
if os.environ.get("TESTHELPER_SLEEP"):
    time.sleep(float(os.environ["TESTHELPER_SLEEP"]))
if os.environ.get("TESTHELPER_FAIL"):
    sys.stderr.write("keychain is locked; request was " + stdin.replace("\\n", " ") + "\\n")
    sys.exit(1)
data = load()
if action == "store":
    req = json.loads(stdin)
    data[req["ServerURL"]] = {{"Username": req["Username"], "Secret": req["Secret"]}}
    save(data)
elif action in ("get", "erase"):
    url = stdin.strip()
    if url not in data:
        print(NOT_FOUND)
        sys.exit(1)
    if action == "get":
        print(json.dumps(dict(ServerURL=url, **data[url])))
    else:
        del data[url]
        save(data)
elif action == "list":
    print(json.dumps({{k: v["Username"] for k, v in data.items()}}))
else:
    print("unknown action " + action)
    sys.exit(1)
"""


@dataclass
class FakeHelper:
    """Handle on the fake helper's storage, for asserting what the protocol actually delivered."""

    name: str
    store_file: Path

    def entries(self) -> dict[str, dict[str, str]]:
        """What the helper holds: ``{server: {"Username", "Secret"}}``."""
        if not self.store_file.exists():
            return {}
        return json.loads(self.store_file.read_text())

    def put(self, server: str, username: str, secret: str) -> None:
        """Seed an entry as if another tool had stored it."""
        data = self.entries()
        data[server] = {"Username": username, "Secret": secret}
        self.store_file.write_text(json.dumps(data))

    def actions(self) -> list[str]:
        """Actions the helper was invoked with, in order."""
        log = Path(str(self.store_file) + ".log")
        return log.read_text().split() if log.exists() else []


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """Path of a (not yet existing) config.json in its own directory."""
    return tmp_path / "docker" / "config.json"


@pytest.fixture
def testhelper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHelper:
    """Install ``docker-credential-testhelper`` first on PATH and return a handle on its storage."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    store = tmp_path / "helper-store.json"
    script = bin_dir / "docker-credential-testhelper"
    script.write_text(HELPER_SOURCE.format(python=sys.executable, store=str(store)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("TESTHELPER_FAIL", raising=False)
    monkeypatch.delenv("TESTHELPER_SLEEP", raising=False)
    return FakeHelper(name="testhelper", store_file=store)


def _write_config(path: Path, data: object) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = (json.dumps(data, indent="\t") + "\n").encode()
    path.write_bytes(raw)
    return raw


@pytest.fixture
def write_config() -> Callable[[Path, object], bytes]:
    """Writer for a pre-existing config (docker-style tabs); returns the exact bytes written."""
    return _write_config
