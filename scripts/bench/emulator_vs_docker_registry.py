"""Benchmark: acr-emulator against Debian's docker-registry serving the same workload on loopback.

    .venv/bin/python scripts/bench/emulator_vs_docker_registry.py [--seconds 5] [--blob-mib 256] [--clients 16]

Each server gets the same image (a small config, one BLOB_MIB layer, an OCI manifest). Measured:
  * manifest GET requests/s by CLIENTS concurrent aiohttp tasks for SECONDS (one bearer token with pull
    scope, fetched once, for the emulator; docker-registry runs without auth);
  * blob GET MB/s for the big layer, one client, the best of three downloads.
Servers: the emulator over plain HTTP (`--no-tls`, as docker-registry) and over TLS, both `--quiet` with
on-disk storage; docker-registry with filesystem storage and log level error. Goals: manifest ≥ 0.5×
and blob ≥ 0.8× of docker-registry (plain HTTP against plain HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import requests

ROOT = Path(__file__).resolve().parents[2]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Server:
    label: str
    url: str
    process: subprocess.Popen
    headers: dict[str, str]  # what a client sends on pulls
    ca: str | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(data_dir: Path, tls: bool) -> tuple[subprocess.Popen, dict]:
    cmd = [sys.executable, "-m", "azext_acr.emulator", "--port", "0", "--data-dir", str(data_dir), "--quiet"]
    if not tls:
        cmd.append("--no-tls")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("acr-emulator did not start")
    return proc, json.loads(line)


def start_docker_registry(root: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not os.path.exists(binary):
        raise SystemExit("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            requests.get(url + "/v2/", timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("docker-registry did not start")


def push_image(session: requests.Session, url: str, repo: str, layer_path: Path, layer_digest: str) -> None:
    """A generic OCI push (POST, then PUT ?digest= with the body) that both servers accept."""

    def push_blob(data, digest: str) -> None:
        started = session.post(f"{url}/v2/{repo}/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        if location.startswith("/"):
            location = url + location
        done = session.put(location, params={"digest": digest}, data=data,
                           headers={"Content-Type": "application/octet-stream"})
        assert done.status_code == 201, done.text

    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    push_blob(config, config_digest)
    with open(layer_path, "rb") as f:
        push_blob(f, layer_digest)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                    "size": layer_path.stat().st_size}],
    })
    put = session.put(f"{url}/v2/{repo}/manifests/v1", data=manifest, headers={"Content-Type": OCI_MANIFEST})
    assert put.status_code == 201, put.text


def emulator_session(info: dict) -> tuple[requests.Session, dict[str, str]]:
    session = requests.Session()
    session.trust_env = False
    session.verify = info["caCertPath"] or True
    admin = (info["adminUsername"], info["adminPassword"])
    token = session.get(info["url"] + "/oauth2/token", auth=admin,
                        params={"service": info["loginServer"], "scope": "repository:bench/image:pull,push"})
    token.raise_for_status()
    push_headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    pull = session.get(info["url"] + "/oauth2/token", auth=admin,
                       params={"service": info["loginServer"], "scope": "repository:bench/image:pull"})
    session.headers.update(push_headers)
    return session, {"Authorization": "Bearer " + pull.json()["access_token"]}


async def manifest_rps(server: Server, clients: int, seconds: float) -> float:
    ssl_context: ssl.SSLContext | bool = False
    if server.ca:
        ssl_context = ssl.create_default_context(cafile=server.ca)
    connector = aiohttp.TCPConnector(limit=clients, ssl=ssl_context)
    url = f"{server.url}/v2/bench/image/manifests/v1"
    headers = {"Accept": OCI_MANIFEST, **server.headers}
    count = 0
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(deadline: float) -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{server.label}: manifest GET {response.status}")
                count += 1

        await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(clients)))  # warm-up
        count = 0
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return count / elapsed


def blob_mbps(server: Server, digest: str, size: int, rounds: int = 3) -> float:
    session = requests.Session()
    session.trust_env = False
    session.verify = server.ca or True
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        received = 0
        with session.get(f"{server.url}/v2/bench/image/blobs/{digest}", headers=server.headers, stream=True) as r:
            r.raise_for_status()
            for chunk in r.iter_content(1 << 20):
                received += len(chunk)
        elapsed = time.perf_counter() - started
        if received != size:
            raise RuntimeError(f"{server.label}: got {received} of {size} bytes")
        best = max(best, size / elapsed / 1e6)
    return best


def make_layer(path: Path, mib: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(mib):
            chunk = block[i % 7 :] + block[: i % 7]  # distinct-ish blocks, cheap to make
            f.write(chunk)
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--blob-mib", type=int, default=256)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="acr-bench-"))
    servers: list[Server] = []
    try:
        layer = work / "layer.bin"
        layer_digest = make_layer(layer, args.blob_mib)
        size = layer.stat().st_size

        proc, url = start_docker_registry(work / "docker-registry")
        servers.append(Server("docker-registry (http)", url, proc, {}))
        session = requests.Session()
        session.trust_env = False
        push_image(session, url, "bench/image", layer, layer_digest)

        for tls in (False, True):
            proc, info = start_emulator(work / ("emulator-tls" if tls else "emulator-http"), tls)
            session, pull_headers = emulator_session(info)
            label = "acr-emulator (tls)" if tls else "acr-emulator (http)"
            servers.append(Server(label, info["url"], proc, pull_headers, info["caCertPath"]))
            push_image(session, info["url"], "bench/image", layer, layer_digest)

        results = {}
        for server in servers:
            rps = asyncio.run(manifest_rps(server, args.clients, args.seconds))
            mbps = blob_mbps(server, layer_digest, size)
            results[server.label] = (rps, mbps)
            print(f"  measured {server.label}: {rps:,.0f} manifest GET/s, {mbps:,.0f} MB/s", file=sys.stderr)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    peer_rps, peer_mbps = results["docker-registry (http)"]
    print(f"manifest GET: {args.clients} concurrent clients, {args.seconds:g} s; "
          f"blob GET: {args.blob_mib} MiB, best of 3")
    print(f"{'server':<24} {'manifest GET/s':>15} {'ratio':>7} {'blob GET MB/s':>14} {'ratio':>7}")
    for label, (rps, mbps) in results.items():
        print(f"{label:<24} {rps:>15,.0f} {rps / peer_rps:>6.2f}x {mbps:>14,.0f} {mbps / peer_mbps:>6.2f}x")
    http_rps, http_mbps = results["acr-emulator (http)"]
    goals = [("manifest GET", http_rps / peer_rps, 0.5), ("blob GET", http_mbps / peer_mbps, 0.8)]
    for name, ratio, goal in goals:
        verdict = "met" if ratio >= goal else "MISSED"
        print(f"goal {name} >= {goal}x docker-registry (plain http): {ratio:.2f}x {verdict}")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
