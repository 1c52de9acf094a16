from __future__ import annotations

import pytest
from badserver import Handler, serve


@pytest.fixture(scope="module")
def bad_server():
    server = serve(Handler)
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
