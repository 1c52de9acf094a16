"""`acr-emulator`: a local Azure Container Registry, with a local AAD for its dev service principal."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from . import faults, registries
from .models.registry import DEFAULT_GC_GRACE
from .server import Options, serve


def _fraction(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return rate


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return number


def _host_name(value: str) -> str:
    try:
        return registries.check_host_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument(
        "--registry-host",
        action="append",
        default=[],
        type=_host_name,
        metavar="NAME",
        help="serve one more registry for requests whose Host is NAME, with its own data and token "
        "audience (repeatable); other host names reach the default registry",
    )
    parser.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve this certificate (chain) instead")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="the key of --tls-cert (default: in that file)")
    parser.add_argument("--tls-ca", type=Path, metavar="PEM", help="the CA clients should trust for --tls-cert")
    parser.add_argument("--reset", action="store_true", help="wipe the data directory's registry state at start")
    gc = parser.add_argument_group("garbage collection (also `acr-emulator gc --data-dir DIR`)")
    gc.add_argument("--gc-interval", type=_non_negative, default=0, metavar="SECONDS", help="collect every N s")
    gc.add_argument(
        "--gc-grace",
        type=_non_negative,
        default=DEFAULT_GC_GRACE,
        metavar="SECONDS",
        help="spare unreferenced blobs uploaded or mounted within this time (default %(default)s)",
    )
    fault = parser.add_argument_group("fault injection (for clients' retry tests)")
    fault.add_argument("--fault-rate", type=_fraction, default=0.0, metavar="F", help="answer this share with faults")
    fault.add_argument("--fault-status", type=int, choices=(429, 503), default=503)
    fault.add_argument("--fault-retry-after", type=int, default=1, metavar="SECONDS", help="Retry-After (default 1)")
    fault.add_argument("--fault-auth", action="store_true", help="fault the token service and AAD too")
    fault.add_argument("--fault-seed", type=int, help="seed for reproducible faults")
    fault.add_argument(
        "--fault-methods",
        type=lambda v: frozenset(m.strip().upper() for m in v.split(",") if m.strip()),
        metavar="GET,HEAD,...",
        help="fault only these HTTP methods (default: all)",
    )
    fault.add_argument("--latency-ms", type=int, default=0, metavar="N", help="delay each data request by N ms")
    aad = parser.add_argument_group("local Azure AD (see the README's AAD section)")
    aad.add_argument("--principals", type=Path, metavar="JSON",
                     help="more service principals, users and managed identities, with their registry roles")
    aad.add_argument("--aad-token-ttl", type=int, metavar="SECONDS",
                     help="AAD access-token lifetime (default: --access-token-ttl)")
    aad.add_argument("--auto-approve-device-code", action="store_true",
                     help="sign every device code in at once as the dev user (for tests)")
    parser.add_argument(
        "--body-timeout",
        type=_non_negative,
        default=60.0,
        metavar="SECONDS",
        help="answer 400 when a request body stalls this long (default 60)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    if args.reset and args.data_dir is None:
        parser.error("--reset needs --data-dir")
    if args.tls_cert and args.no_tls:
        parser.error("--tls-cert and --no-tls exclude each other")
    if (args.tls_key or args.tls_ca) and not args.tls_cert:
        parser.error("--tls-key and --tls-ca need --tls-cert")
    for ttl in (args.access_token_ttl, args.refresh_token_ttl, args.aad_token_ttl or 1):
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
        registry_hosts=list(dict.fromkeys(args.registry_host)),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        reset=args.reset,
        gc_interval=args.gc_interval,
        gc_grace=args.gc_grace,
        body_timeout=args.body_timeout or 60.0,
        faults=faults.FaultPlan(
            rate=args.fault_rate,
            status=args.fault_status,
            retry_after=max(args.fault_retry_after, 0),
            latency_ms=max(args.latency_ms, 0),
            include_auth=args.fault_auth,
            seed=args.fault_seed,
            methods=args.fault_methods,
        ),
        principals=args.principals,
        aad_token_ttl=args.aad_token_ttl,
        auto_approve_device_code=args.auto_approve_device_code,
    )


def gc_main(argv: list[str]) -> int:
    """`acr-emulator gc --data-dir DIR`: collect garbage in a data directory no emulator is using."""
    parser = argparse.ArgumentParser(prog="acr-emulator gc", description=gc_main.__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--grace",
        type=_non_negative,
        default=0.0,
        metavar="SECONDS",
        help="spare unreferenced blobs uploaded or mounted within this time (default 0: none)",
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    if not (data_dir / "registry.db").exists():
        print(f"acr-emulator gc: {data_dir} holds no registry data", file=sys.stderr)
        return 1
    lock = FileLock(str(data_dir / "emulator.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"acr-emulator gc: {data_dir} is in use by a running acr-emulator (use --gc-interval)", file=sys.stderr)
        return 1
    try:
        names = [None, *registries.stored_registry_names(data_dir)]
        hosted = [registries.open_hosted(name, data_dir) for name in names]
        try:
            reports = registries.collect_garbage(hosted, args.grace)
        finally:
            for h in hosted:
                h.close()
    finally:
        lock.release()
    print(json.dumps({name or "default": report.to_dict() for name, report in reports.items()}))
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gc"]:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
        sys.exit(gc_main(argv[1:]))
    options = parse_args(argv)
    try:
        code = asyncio.run(serve(options))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
