"""Benchmark: purge 1,000 of 2,000 manifests, acr vs the az FAQ loop.

The az loop (the FAQ recipe: one ``az acr repository delete --image r@digest --yes`` per digest)
is timed on 50 digests and scaled to 1,000; acr purge runs for real on all 1,000 with
``--concurrency 8``. Both talk to the same local emulator (admin credentials, HTTPS).

    .venv/bin/python scripts/bench/purge.py [--manifests 2000] [--az-sample 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _bench import Emulator, acr_cmd, acr_env, az_env, ensure_az, table, timed


def seed(emulator: Emulator, repo: str, count: int, prefix: str) -> list[str]:
    """``count`` distinct single-layer images, tagged ``<prefix>-<i>``; returns their digests."""
    import requests
    from seed import Seeder

    class Info:
        url, ca_cert, info = emulator.url, emulator.ca_cert, emulator.info

    seeder = Seeder(Info, requests.Session())
    seeder.http.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: seeder.image(repo, f"{prefix}-{i}", content=f"{prefix}{i}".encode()),
                             range(count)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifests", type=int, default=2000)
    parser.add_argument("--az-sample", type=int, default=50)
    args = parser.parse_args()
    half = args.manifests // 2
    ensure_az()
    emulator = Emulator()
    home = Path(tempfile.mkdtemp(prefix="acr-bench-home-"))
    user, password = emulator.admin
    try:
        start = time.perf_counter()
        seed(emulator, "bench/purge", half, "keep")
        old = seed(emulator, "bench/purge", half, "old")
        sample = seed(emulator, "bench/azloop", args.az_sample, "old")
        print(f"seeded {args.manifests + args.az_sample} manifests in {time.perf_counter() - start:.1f} s")

        env = acr_env(emulator, home)
        acr_seconds = timed(acr_cmd("purge", "-n", emulator.login_server, "-u", user, "-p", password,
                                    "--filter", "bench/purge:old-.*", "--untagged", "--concurrency", "8"), env)[0]

        azenv = az_env(emulator, home)
        start = time.perf_counter()
        for digest in sample:
            timed([str(ensure_az()), "acr", "repository", "delete", "-n", "localhost", "--image",
                   f"bench/azloop@{digest}", "--yes", "-u", user, "-p", password], azenv)
        az_per_digest = (time.perf_counter() - start) / len(sample)
        az_scaled = az_per_digest * len(old)
        print(table([
            ("acr purge --concurrency 8", len(old), f"{acr_seconds:.1f}", f"{acr_seconds / len(old) * 1000:.1f}"),
            (f"az loop (timed on {len(sample)}, scaled)", len(old), f"{az_scaled:.1f}", f"{az_per_digest * 1000:.0f}"),
        ], ("tool", "manifests", "seconds", "ms/manifest")))
        print(f"ratio acr/az: {acr_seconds / az_scaled:.4f}x (goal <= 0.02x)")
    finally:
        emulator.close()


if __name__ == "__main__":
    main()
