"""oras-py against the emulator.

oras-py 0.2.43's token backend keeps the first token it got and, on a 401, sends that same token again;
it asks for a new one only after a 403. ACR answers 401 for a token without the needed action (acr-protocol
§2.1), so a push that starts with a pull-scoped HEAD fails there and here alike. Its Basic backend sends the
credentials on every request, which ACR (and the emulator) accept on /v2: that push works.
"""

from __future__ import annotations

import pytest


def test_oras_py_with_basic_auth_pushes_and_pulls(emulator, tmp_path, monkeypatch):
    oras_client = pytest.importorskip("oras.client")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_cert)
    (tmp_path / "note.txt").write_text("pushed by oras-py\n")
    client = oras_client.OrasClient(hostname=emulator.login_server, auth_backend="basic")
    client.login(username=emulator.info["adminUsername"], password=emulator.info["adminPassword"],
                 hostname=emulator.login_server)
    target = f"{emulator.login_server}/oras-py/basic:v1"
    assert client.push(files=["note.txt"], target=target).status_code == 201
    out = tmp_path / "out"
    pulled = client.pull(target=target, outdir=str(out))
    assert [p.endswith("note.txt") for p in pulled] == [True]
    assert (out / "note.txt").read_text() == "pushed by oras-py\n"
