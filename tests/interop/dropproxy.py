"""A TCP proxy on loopback that cuts a connection once, after it has carried N bytes one way.

Real sockets, no mocks: what the client sees is a reset connection in the middle of a request
body, exactly as on a flaky network. TLS passes through untouched.
"""

from __future__ import annotations

import socket
import struct
import threading


class DropOnceProxy:
    """``direction``: "up" counts client → server bytes (uploads), "down" server → client (downloads)."""

    def __init__(self, upstream_port: int, drop_after: int, direction: str = "up"):
        self.upstream_port = upstream_port
        self.drop_after = drop_after
        self.direction = direction
        self.dropped = False
        self.counted_bytes = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            pair = {"sent": 0}
            up, down = self.direction == "up", self.direction == "down"
            threading.Thread(target=self._pump, args=(client, upstream, pair, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair, down), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair: dict, counted: bool) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    with self._lock:
                        pair["sent"] += len(data)
                        cut = not self.dropped and pair["sent"] > self.drop_after
                        if cut:
                            self.dropped = True
                            data = data[: len(data) - (pair["sent"] - self.drop_after)]
                        self.counted_bytes += len(data)
                    if cut:
                        target.sendall(data)
                        _reset(source)
                        _reset(target)
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed = True
        self._server.close()


def _reset(sock: socket.socket) -> None:
    """Cut the connection as a dropped network path would. shutdown() first: a close() alone would not
    take effect while the other pump thread is still blocked in recv() on the same socket."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
