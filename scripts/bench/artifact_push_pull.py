#!/usr/bin/env python3
"""Benchmark: push and pull one large file with ``acr artifact``, with oras-py doing the same, and a
plain disk copy of the file as the floor.

    .venv/bin/python scripts/bench/artifact_push_pull.py [--size-mib 1024] [--runs 1]

Starts its own emulator (HTTPS, on-disk storage in a temp dir). Every tool runs as a subprocess
(interpreter start-up included, as a user pays it), against a repository of its own, so no blob is
"already there". acr signs in through the emulator's Azure AD; oras-py uses the admin user with its
basic backend (its token backend keeps one token for all scopes and cannot push to ACR). Peak RSS
of each subprocess is reported beside its time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024

RSS_WRAPPER = ("import resource, subprocess, sys\n"
               "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
               "sys.exit(code)\n")

ORAS_PUSH = """
import os, sys, oras.client
c = oras.client.OrasClient(hostname=sys.argv[1], tls_verify=sys.argv[2], auth_backend="basic")
c.auth.set_basic_auth(os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])
os.chdir(os.path.dirname(sys.argv[4]))
c.push(target=sys.argv[3], files=[os.path.basename(sys.argv[4])], quiet=True)
"""

ORAS_PULL = """
import os, sys, oras.client
c = oras.client.OrasClient(hostname=sys.argv[1], tls_verify=sys.argv[2], auth_backend="basic")
c.auth.set_basic_auth(os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])
c.pull(target=sys.argv[3], outdir=sys.argv[4])
"""


def start_emulator(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "azext_acr.emulator", "--port", "0", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        sys.exit("acr-emulator did not start")
    return proc, json.loads(line)


def measured(args: list[str], env: dict) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one subprocess."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RSS_WRAPPER, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args[:6])} ...\n{proc.stderr}")
    return seconds, int(proc.stderr.strip().splitlines()[-1]) * 1024


def write_file(path: Path, size: int) -> str:
    block = os.urandom(16 * MIB)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement; the best run is shown")
    options = parser.parse_args()
    size = options.size_mib * MIB

    with tempfile.TemporaryDirectory(prefix="acr-bench-") as temp:
        work = Path(temp)
        emulator, info = start_emulator(work / "emulator")
        try:
            server, ca = info["loginServer"], info["caCertPath"]
            source = work / "src" / "payload.bin"
            source.parent.mkdir()
            expected = write_file(source, size)
            env = dict(os.environ, REQUESTS_CA_BUNDLE=ca, AZURE_CLIENT_ID=info["clientId"],
                       AZURE_CLIENT_SECRET=info["clientSecret"], AZURE_TENANT_ID=info["tenantId"],
                       AZURE_AUTHORITY_HOST=info["authorityHost"], DOCKER_CONFIG=str(work / "docker"),
                       ACR_CONFIG_DIR=str(work / "acr"), BENCH_USER=info["adminUsername"],
                       BENCH_PASSWORD=info["adminPassword"])
            acr = [sys.executable, "-m", "azext_acr.cli.main"]
            results: dict[str, tuple[float, int]] = {}

            def best(name: str, make_args, check: Path | None = None) -> None:
                runs = []
                for run in range(options.runs):
                    args, out = make_args(run)
                    # A config dir per run: acr must not mount the blob from the previous run's repository.
                    runs.append(measured(args, dict(env, ACR_CONFIG_DIR=str(work / f"acr-config-{name}-{run}"))))
                    if check is not None or out is not None:
                        target = out if out is not None else check
                        if file_sha256(target) != expected:
                            sys.exit(f"{name}: the pulled file differs from the source")
                        shutil.rmtree(target.parent, ignore_errors=True)
                results[name] = min(runs)

            def copy(run):
                target = work / f"copy{run}" / "payload.bin"
                target.parent.mkdir()
                code = f"import shutil, sys; shutil.copyfile({str(source)!r}, {str(target)!r})"
                return [sys.executable, "-c", code], target

            best("disk copy (shutil.copyfile)", copy)
            best("acr push", lambda run: (acr + ["artifact", "push", f"{server}/bench/acr{run}:v1", str(source)],
                                          None))
            best("acr pull", lambda run: (acr + ["artifact", "pull", f"{server}/bench/acr{run}:v1", "-o",
                                                 str(work / f"acr-out{run}")], work / f"acr-out{run}" / "payload.bin"))
            best("oras-py push", lambda run: ([sys.executable, "-c", ORAS_PUSH, server, ca,
                                               f"{server}/bench/oras{run}:v1", str(source)], None))
            best("oras-py pull", lambda run: ([sys.executable, "-c", ORAS_PULL, server, ca,
                                               f"{server}/bench/oras{run}:v1", str(work / f"oras-out{run}")],
                                              work / f"oras-out{run}" / "payload.bin"))
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)

    copy_seconds = results["disk copy (shutil.copyfile)"][0]
    print(f"{options.size_mib} MiB file, best of {options.runs}; emulator on loopback over HTTPS; "
          f"{os.cpu_count()} CPUs")
    print(f"{'':30} {'seconds':>8} {'MB/s':>8} {'peak RSS':>9} {'vs oras-py':>11} {'vs disk copy':>13}")
    for name, (seconds, rss) in results.items():
        peer = {"acr push": "oras-py push", "acr pull": "oras-py pull"}.get(name)
        versus_oras = f"{results[peer][0] / seconds:.2f}x" if peer else ""
        versus_copy = f"{copy_seconds / seconds:.2f}x" if name != "disk copy (shutil.copyfile)" else ""
        print(f"{name:30} {seconds:8.2f} {size / seconds / 1e6:8.1f} {rss / MIB:6.0f} MiB {versus_oras:>11} "
              f"{versus_copy:>13}")
    print("Ratios are speed ratios (higher is faster for acr). Goals: acr >= 1.0x oras-py, >= 0.5x disk copy.")


if __name__ == "__main__":
    main()
