"""Concurrent writers: parallel ``acr login`` runs must not lose each other's entries or corrupt the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from azext_acr.dockerconfig import Credentials, get_credentials, load_config

WRITER = """
import sys
from azext_acr.dockerconfig import Credentials, store_credentials
index, path = sys.argv[1], sys.argv[2]
store_credentials(f"reg{index}.azurecr.io", Credentials(f"user{index}", f"pw{index}", f"tok{index}"), path)
"""


def test_fifty_concurrent_processes_each_keep_their_entry(cfg: Path, write_config) -> None:
    write_config(cfg, {"auths": {"pre.io": {"auth": "dTpw"}}, "HttpHeaders": {"X-Keep": "1"}})
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(i), str(cfg)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(50)
    ]
    failures = []
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(err)
    assert failures == []

    config = json.loads(cfg.read_text())  # valid JSON
    assert config["HttpHeaders"] == {"X-Keep": "1"}
    assert set(config["auths"]) == {"pre.io"} | {f"reg{i}.azurecr.io" for i in range(50)}
    for i in (0, 17, 49):
        assert get_credentials(f"reg{i}.azurecr.io", cfg) == Credentials(f"user{i}", f"pw{i}", f"tok{i}")
    leftovers = [p.name for p in cfg.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert load_config(cfg) == config
