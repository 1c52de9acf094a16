"""`acr-emulator`: a local Azure Container Registry, with a local AAD for its dev service principal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from .server import Options, serve


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="acr-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, help="keep registry data, keys and the TLS CA here")
    where.add_argument(
        "--in-memory", action="store_true", help="keep everything in memory (the default without --data-dir)"
    )
    parser.add_argument("--no-tls", action="store_true", help="serve plain HTTP")
    parser.add_argument("--anonymous-pull", action="store_true", help="let anonymous clients pull and list")
    parser.add_argument("--access-token-ttl", type=int, default=75 * 60, metavar="SECONDS")
    parser.add_argument("--refresh-token-ttl", type=int, default=3 * 60 * 60, metavar="SECONDS")
    parser.add_argument(
        "--tls-host",
        action="append",
        default=[],
        metavar="NAME",
        help="extra host name or address for the server certificate (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    for ttl in (args.access_token_ttl, args.refresh_token_ttl):
        if ttl < 1:
            parser.error("token lifetimes must be positive")
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    return Options(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        in_memory=args.in_memory or args.data_dir is None,
        tls=not args.no_tls,
        anonymous_pull=args.anonymous_pull,
        access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl,
        tls_hosts=args.tls_host,
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    try:
        code = asyncio.run(serve(options))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
