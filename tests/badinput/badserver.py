"""A real HTTP server on loopback that answers registry requests with broken responses.

The repository name picks the misbehaviour, so one server serves every case. It is a real
socket server (not a mock): clients see exactly the bytes a broken or hostile registry would send.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIGEST = "sha256:" + "0" * 64
MANIFEST_TYPE = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}


def one_file_manifest(title: str, digest: str = DIGEST, size: int = 1) -> tuple[int, dict, bytes]:
    layer = {"mediaType": "text/plain", "digest": digest, "size": size,
             "annotations": {"org.opencontainers.image.title": title}}
    return 200, MANIFEST_TYPE, json.dumps({"schemaVersion": 2, "layers": [layer]}).encode()


BAD_RESPONSES: dict[str, tuple[int, dict, bytes]] = {
    "nonjson": (200, {"Content-Type": "application/json"}, b"<html>oops</html>"),
    "truncated": (200, {"Content-Type": "application/json"}, b'{"tags": [{"name": "a"'),
    "emptybody": (200, {"Content-Type": "application/json"}, b""),
    "jsonlist": (200, {"Content-Type": "application/json"}, b"[1, 2, 3]"),
    "jsonstring": (200, {"Content-Type": "application/json"}, b'"hello"'),
    "jsonnull": (200, {"Content-Type": "application/json"}, b"null"),
    "wrongtypes": (200, {"Content-Type": "application/json"}, b'{"tags": "not-a-list", "tag": 5, "repositories": 7}'),
    "tagsofnumbers": (200, {"Content-Type": "application/json"}, b'{"tags": [1, 2], "repositories": [1, {"a": 2}]}'),
    "nestedwrong": (200, {"Content-Type": "application/json"}, b'{"tag": [], "manifest": "x"}'),
    "hugeheader": (200, {"Content-Type": "application/json", "X-Huge": "a" * 60000}, b'{"tags": []}'),
    "badlink": (200, {"Content-Type": "application/json", "Link": "garbage without brackets"}, b'{"tags": []}'),
    "linkloop": (200, {"Content-Type": "application/json", "Link": '</acr/v1/linkloop/_tags?n=100>; rel="next"'},
                 b'{"tags": [{"name": "a"}], "repositories": ["a"]}'),
    "linkforeign": (200, {"Content-Type": "application/json", "Link": '<http://evil.example/x>; rel="next"'},
                    b'{"tags": [], "repositories": []}'),
    "error500": (500, {"Content-Type": "text/plain"}, b"internal error"),
    "error400html": (400, {"Content-Type": "text/html"}, b"<h1>Bad</h1>"),
    "error404weird": (404, {"Content-Type": "application/json"}, b'{"errors": "not a list"}'),
    "error404empty": (404, {}, b""),
    "error401nochallenge": (401, {}, b""),
    "error403": (403, {"Content-Type": "application/json"},
                 b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'),
    "error405": (405, {"Content-Type": "application/json"},
                 b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}'),
    "error409": (409, {}, b""),
    "error418": (418, {}, b"teapot"),
    "errorsnested": (404, {"Content-Type": "application/json"}, b'{"errors": [{"code": 5, "message": {"a": 1}}]}'),
    "badmanifest": (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                          "Docker-Content-Digest": DIGEST}, b'{"schemaVersion": 2}'),
    "manifestnotjson": (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, b"\x00\x01\x02"),
    "manifestlayerswrong": (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                            b'{"schemaVersion": 2, "layers": "nope"}'),
    "manifestevil": one_file_manifest("../../evil.txt"),
    "manifestabsolute": one_file_manifest("/tmp/evil.txt"),
    "manifestbaddigest": one_file_manifest("x.txt", digest="sha256:zz"),
    "manifestwrongblob": one_file_manifest("blob.txt", size=3),
    "manifesthuge": (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, b" " * (5 * 1024 * 1024)),
}
CHALLENGES = {
    "chnorealm": 'Bearer service="x"',
    "chempty": "",
    "chgarbage": "%%%% ,,,, ====",
    "chnegotiate": "Negotiate",
    "chbadrealm": 'Bearer realm="not a url",service="x"',
    "chrealmrefused": 'Bearer realm="http://127.0.0.1:1/token",service="x"',
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _mode(self) -> str:
        path = self.path.split("?")[0]
        for prefix in ("/acr/v1/", "/v2/"):
            if path.startswith(prefix):
                return path[len(prefix):].split("/")[0]
        return ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        if path == "/v2/":
            mode = self.headers.get("X-Mode", "")
            return self._send(200, {}, b"{}")
        if path.startswith("/v2/blobs-wrong/") or "/blobs/" in path:
            return self._send(200, {"Content-Type": "application/octet-stream"}, b"not-the-content")
        if path == "/v2/_catalog":
            return self._send(200, {"Content-Type": "application/json"}, b'{"repositories": "nope"}')
        mode = self._mode()
        if mode == "dropconnection":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"tags\"")
            self.close_connection = True
            return None
        status, headers, body = BAD_RESPONSES.get(mode, (404, {}, b""))
        return self._send(status, headers, body)

    do_HEAD = do_GET  # noqa: N815

    def do_DELETE(self) -> None:  # noqa: N802
        self.do_GET()

    def do_PATCH(self) -> None:  # noqa: N802
        self.do_GET()


class ChallengeHandler(Handler):
    """Every request gets 401 with the challenge the port was started for."""

    challenge = ""

    def do_GET(self) -> None:  # noqa: N802
        headers = {"WWW-Authenticate": self.challenge} if self.challenge else {}
        return self._send(401, headers, b"")


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
