"""Transfers that must survive the real world: dropped connections (through a real TCP proxy that
cuts the socket) and a 1 GiB file in bounded memory."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from urllib.parse import urlparse

import pytest
from dropproxy import DropOnceProxy

MIB = 1024 * 1024


def emulator_port(emulator) -> int:
    return urlparse(emulator.url).port


def test_upload_interrupted_mid_chunk_resumes_from_the_registry_offset(acr, emulator):
    payload = os.urandom(8 * MIB + 123)
    (acr.home / "big.bin").write_bytes(payload)
    proxy = DropOnceProxy(emulator_port(emulator), drop_after=5 * MIB + 4321, direction="up")
    try:
        ref = f"localhost:{proxy.port}/resume/upload:v1"
        pushed = acr("artifact", "push", ref, "big.bin", env={"ACR_UPLOAD_CHUNK_SIZE": str(4 * MIB)})
    finally:
        proxy.close()
    assert pushed.code == 0, pushed.stderr
    assert proxy.dropped
    assert "Resuming" in pushed.stderr and "big.bin at byte" in pushed.stderr
    # Resumed where the registry stood, not from the start of the blob or of the chunk.
    assert proxy.counted_bytes < len(payload) + MIB, pushed.stderr
    out = acr.home / "out"
    pulled = acr("artifact", "pull", f"{acr.server}/resume/upload:v1", "-o", str(out))
    assert pulled.code == 0, pulled.stderr
    assert (out / "big.bin").read_bytes() == payload


def test_download_interrupted_mid_blob_resumes_with_a_range_request(acr, emulator):
    payload = os.urandom(6 * MIB + 7)
    (acr.home / "dl.bin").write_bytes(payload)
    assert acr("artifact", "push", f"{acr.server}/resume/download:v1", "dl.bin").code == 0
    proxy = DropOnceProxy(emulator_port(emulator), drop_after=3 * MIB, direction="down")
    out = acr.home / "out"
    try:
        pulled = acr("artifact", "pull", f"localhost:{proxy.port}/resume/download:v1", "-o", str(out))
    finally:
        proxy.close()
    assert pulled.code == 0, pulled.stderr
    assert proxy.dropped and "Resuming" in pulled.stderr
    assert (out / "dl.bin").read_bytes() == payload
    assert [p.name for p in out.iterdir()] == ["dl.bin"]  # no .part file left


# Runs the command, then reports the peak RSS of that child (Linux: KiB) on stderr's last line.
RSS_WRAPPER = ("import resource, subprocess, sys\n"
               "code = subprocess.call(sys.argv[1:])\n"
               "print('maxrss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
               "sys.exit(code)\n")


def run_measured(acr, *args: str) -> tuple[int, float, int, str]:
    import subprocess

    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", RSS_WRAPPER, sys.executable, "-m", "azext_acr.cli.main", *args],
                          env=acr.env, cwd=acr.home, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("maxrss_kib "), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, elapsed, int(last.split()[1]) * 1024, proc.stderr


def write_pattern_file(path, size: int) -> str:
    """Fast to write, not sparse, and not all one byte: a random 16 MiB block repeated."""
    block = os.urandom(16 * MIB)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return "sha256:" + digest.hexdigest()


@pytest.mark.slow
def test_one_gib_round_trip_stays_under_150_mb_of_memory(acr, tmp_path):
    size = int(os.environ.get("ACR_TEST_BIG_MIB", "1024")) * MIB
    source = acr.home / "big.bin"
    digest = write_pattern_file(source, size)
    ref = f"{acr.server}/big/gib:v1"
    try:
        code, push_seconds, push_rss, stderr = run_measured(acr, "artifact", "push", ref, "big.bin")
        assert code == 0, stderr
        source.unlink()  # keep the disk footprint to one copy
        out = tmp_path / "out"
        code, pull_seconds, pull_rss, stderr = run_measured(acr, "artifact", "pull", ref, "-o", str(out))
        assert code == 0, stderr
        with open(out / "big.bin", "rb") as pulled:
            assert "sha256:" + hashlib.file_digest(pulled, "sha256").hexdigest() == digest
        print(f"push {push_seconds:.1f}s {push_rss / MIB:.0f} MiB RSS; "
              f"pull {pull_seconds:.1f}s {pull_rss / MIB:.0f} MiB RSS")
        assert push_rss < 150 * 10**6, f"push peaked at {push_rss / MIB:.0f} MiB"
        assert pull_rss < 150 * 10**6, f"pull peaked at {pull_rss / MIB:.0f} MiB"
    finally:
        for path in (source, tmp_path / "out" / "big.bin"):
            if path.exists():
                path.unlink()
