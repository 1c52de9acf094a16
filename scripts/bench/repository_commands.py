"""Benchmark: acr vs the real az for single commands, acr vs skopeo for 10,000 tags, acr --help.

Each tool pays its own interpreter or process start-up, as a user's shell does. Same emulator,
same admin credentials, same registry state.

    .venv/bin/python scripts/bench/repository_commands.py [--runs 7] [--tags 10000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _bench import Emulator, acr_cmd, acr_env, az_env, ensure_az, median, table, timed


def seed_tags(emulator: Emulator, repo: str, count: int) -> None:
    import requests
    from seed import Seeder

    class Info:
        url, ca_cert, info = emulator.url, emulator.ca_cert, emulator.info

    seeder = Seeder(Info, requests.Session())
    seeder.http.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    digest = seeder.image(repo, "t00000")
    document = seeder.http.get(f"{emulator.url}/v2/{repo}/manifests/{digest}",
                               headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).content

    def tag(i: int) -> None:
        response = seeder.http.put(f"{emulator.url}/v2/{repo}/manifests/t{i:05d}", data=document,
                                   headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(tag, range(1, count)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tags", type=int, default=10000)
    args = parser.parse_args()
    az = str(ensure_az())
    skopeo = shutil.which("skopeo")
    emulator = Emulator()
    home = Path(tempfile.mkdtemp(prefix="acr-bench-home-"))
    user, password = emulator.admin
    creds = ["-u", user, "-p", password]
    try:
        seed_tags(emulator, "bench/show", 3)
        env, azenv = acr_env(emulator, home), az_env(emulator, home)
        rows = []
        ratios = []
        for label, acr_args, az_args in [
            ("repository show --image",
             ["repository", "show", "-n", emulator.login_server, "--image", "bench/show:t00001"],
             ["acr", "repository", "show", "-n", "localhost", "--image", "bench/show:t00001"]),
            ("repository show-tags",
             ["repository", "show-tags", "-n", emulator.login_server, "--repository", "bench/show"],
             ["acr", "repository", "show-tags", "-n", "localhost", "--repository", "bench/show"]),
        ]:
            acr_time = median(timed(acr_cmd(*acr_args, *creds), env, args.runs))
            az_time = median(timed([az, *az_args, *creds], azenv, args.runs))
            rows.append((label, f"{acr_time * 1000:.0f}", f"{az_time * 1000:.0f}", f"{acr_time / az_time:.2f}x"))
            ratios.append(acr_time / az_time)
        print(table(rows, (f"command (median of {args.runs})", "acr ms", "az ms", "acr/az (goal <= 0.3x)")))

        help_time = median(timed(acr_cmd("--help"), env, args.runs))
        print(f"\nacr --help: {help_time * 1000:.0f} ms (goal <= 150 ms)")

        start = time.perf_counter()
        seed_tags(emulator, "bench/tags", args.tags)
        print(f"\nseeded {args.tags} tags in {time.perf_counter() - start:.1f} s")
        acr_list = median(timed(acr_cmd("repository", "show-tags", "-n", emulator.login_server, "--repository",
                                         "bench/tags", *creds), env, 3))
        line = f"acr show-tags ({args.tags} tags): {acr_list:.2f} s"
        if skopeo:
            certs = home / "certs"
            certs.mkdir(exist_ok=True)
            shutil.copy(emulator.ca_cert, certs / "ca.crt")
            skopeo_list = median(timed([skopeo, "list-tags", "--cert-dir", str(certs), "--creds", f"{user}:{password}",
                                        f"docker://{emulator.login_server}/bench/tags"], env, 3))
            line += f"; skopeo list-tags: {skopeo_list:.2f} s; ratio {acr_list / skopeo_list:.2f}x (goal <= 1.5x)"
        print(line)
    finally:
        emulator.close()


if __name__ == "__main__":
    main()
