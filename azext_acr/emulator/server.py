"""Start-up and routing: storage, keys, TLS, the aiohttp app, the ready line and clean shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from filelock import FileLock, Timeout

from . import faults, registries, tls
from .auth import identities, keys
from .auth.aad import AadIssuer
from .auth.directory import Directory, DirectoryError
from .auth.tokens import TokenService
from .context import CONTEXT, Context, Settings
from .models.errors import RegistryError
from .models.names import check_name
from .models.registry import DEFAULT_GC_GRACE
from .routes import aad, acr, arm, oauth2, v2
from .routes.common import error_response, json_response

log = logging.getLogger("acr-emulator")

Handler = Callable[..., Awaitable[web.StreamResponse]]

# The routing table: (methods, pattern on the percent-decoded path, handler). Order matters: a repository
# name may contain `/`, so the greedy name patterns come after the more specific ones.
_TENANT = r"/(?P<tenant>[A-Za-z0-9.-]+)"
ROUTES: list[tuple[tuple[str, ...], str, Handler]] = [
    (("GET", "HEAD"), r"/v2/?", v2.version_check),
    (("GET",), r"/v2/_catalog", v2.catalog),
    (("POST",), r"/v2/(?P<name>.+)/blobs/uploads/?", v2.start_upload),
    (("PATCH",), r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload_id>[A-Za-z0-9-]+)", v2.patch_upload),
    (("PUT",), r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload_id>[A-Za-z0-9-]+)", v2.finish_upload),
    (("GET",), r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload_id>[A-Za-z0-9-]+)", v2.upload_status),
    (("DELETE",), r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload_id>[A-Za-z0-9-]+)", v2.cancel_upload),
    (("GET", "HEAD"), r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)", v2.get_blob),
    (("DELETE",), r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)", v2.delete_blob),
    (("GET", "HEAD"), r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)", v2.get_manifest),
    (("PUT",), r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)", v2.put_manifest),
    (("DELETE",), r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)", v2.delete_manifest),
    (("GET",), r"/v2/(?P<name>.+)/tags/list", v2.list_tags),
    (("GET",), r"/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)", v2.referrers),
    (("GET",), r"/acr/v1/_catalog", acr.catalog),
    (("GET",), r"/acr/v1/(?P<name>.+)/_tags/(?P<tag>[^/]+)", acr.get_tag),
    (("PATCH",), r"/acr/v1/(?P<name>.+)/_tags/(?P<tag>[^/]+)", acr.update_tag),
    (("DELETE",), r"/acr/v1/(?P<name>.+)/_tags/(?P<tag>[^/]+)", acr.delete_tag),
    (("GET",), r"/acr/v1/(?P<name>.+)/_tags/?", acr.list_tags),
    (("GET",), r"/acr/v1/(?P<name>.+)/_manifests/(?P<digest>[^/]+)", acr.get_manifest),
    (("PATCH",), r"/acr/v1/(?P<name>.+)/_manifests/(?P<digest>[^/]+)", acr.update_manifest),
    (("GET",), r"/acr/v1/(?P<name>.+)/_manifests/?", acr.list_manifests),
    (("GET",), r"/acr/v1/(?P<name>.+?)/?", acr.get_repository),
    (("PATCH",), r"/acr/v1/(?P<name>.+?)/?", acr.update_repository),
    (("DELETE",), r"/acr/v1/(?P<name>.+?)/?", acr.delete_repository),
    (("POST",), r"/oauth2/exchange/?", oauth2.exchange),
    (("POST",), r"/oauth2/token/?", oauth2.token_post),
    (("GET",), r"/oauth2/token/?", oauth2.token_get),
    (("GET",), r"/common/discovery/instance", aad.instance_discovery),
    (("GET",), _TENANT + r"/v2\.0/\.well-known/openid-configuration", aad.openid_configuration),
    (("GET",), _TENANT + r"/\.well-known/openid-configuration", aad.openid_configuration),
    (("GET",), _TENANT + r"/discovery/(?:v2\.0/)?keys", aad.keys),
    (("POST",), _TENANT + r"/oauth2/v2\.0/token", aad.token_v2),
    (("POST",), _TENANT + r"/oauth2/token", aad.token_v1),
    (("POST",), _TENANT + r"/oauth2/(?:v2\.0/)?devicecode", aad.device_code),
    (("GET",), r"/metadata/identity/oauth2/token", aad.imds_token),
    (("GET",), r"/msi/token", aad.app_service_token),
    (("POST",), r"/_emulator/aad/device/approve", aad.approve_device),
    (("GET",), r"/_emulator/aad/device", aad.device_page),
    (("GET", "POST"), r"/_emulator/aad/principals", aad.principals),
    (("POST",), r"/_emulator/aad/federated-token", aad.federated_token),
    (("GET",), r"/_emulator/aad/federated-keys", aad.federated_keys),
    (("GET",), r"/_emulator/aad/stats", aad.stats),
    (("GET",), r"/subscriptions", arm.list_subscriptions),
    (("GET",), r"/tenants", arm.list_tenants),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)", arm.get_subscription),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)/resources", arm.list_resources),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/resources", arm.list_resources),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)/providers/Microsoft\.ContainerRegistry/registries",
     arm.list_registries),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
     r"Microsoft\.ContainerRegistry/registries", arm.list_registries),
    (("GET",), r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
     r"Microsoft\.ContainerRegistry/registries/(?P<registry>[^/]+)", arm.get_registry),
    (("POST",), r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
     r"Microsoft\.ContainerRegistry/registries/(?P<registry>[^/]+)/listCredentials", arm.list_credentials),
]
_COMPILED = [(methods, re.compile(pattern + r"\Z"), handler) for methods, pattern, handler in ROUTES]
_REGISTRY_PREFIXES = ("/v2", "/acr/")


class NotFound(RegistryError):
    code = "NOT_FOUND"
    status = 404
    message = "the requested resource was not found"


class MethodNotAllowed(RegistryError):
    code = "UNSUPPORTED"
    status = 405
    message = "the method is not supported on this resource"


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


# Forms and JSON (tokens, attributes, AAD) are small; only blob uploads stream large bodies and a
# manifest may reach 4 MiB. Anything bigger is refused with 413 before it is buffered.
SMALL_BODY_LIMIT = 256 * 1024
_LARGE_BODY_HANDLERS = {v2.start_upload, v2.patch_upload, v2.finish_upload, v2.put_manifest}


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Route on the percent-decoded path, so `a%2Fb` and `sha256%3A...` reach handlers decoded."""
    path = request.path
    if path == "/health":
        return await health(request)
    path_matched = False
    for methods, pattern, handler in _COMPILED:
        match = pattern.match(path)
        if not match:
            continue
        path_matched = True
        if request.method not in methods:
            continue
        params = match.groupdict()
        if "name" in params:
            check_name(params["name"])
        if handler not in _LARGE_BODY_HANDLERS:
            request = request.clone(client_max_size=SMALL_BODY_LIMIT)
        return await handler(request, **params)
    if path_matched and not path.startswith("/oauth2/exchange"):
        raise MethodNotAllowed()
    raise NotFound()


@web.middleware
async def errors_and_logging(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request["correlation_id"] = str(uuid.uuid4())
    try:
        response = await handler(request)
    except RegistryError as exc:
        response = error_response(exc)
    except (web.HTTPException, ConnectionError):
        raise  # a client that went away mid-stream cannot be answered any more
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path_qs)
        response = json_response({"errors": [{"code": "UNKNOWN", "message": "internal emulator error"}]}, status=500)
    status = response.status
    log.info(
        "%s %s %s %d %.1fms",
        request.remote,
        request.method,
        request.path_qs,
        status,
        (time.perf_counter() - started) * 1000,
    )
    return response


async def common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The headers real ACR puts on every `/v2` and `/acr/v1` response, 401s included."""
    if request.path.startswith(_REGISTRY_PREFIXES):
        response.headers.setdefault("Docker-Distribution-Api-Version", "registry/2.0")
        response.headers.setdefault(
            "Access-Control-Expose-Headers",
            "Docker-Content-Digest, WWW-Authenticate, Link, X-Ms-Correlation-Request-Id",
        )
        response.headers.setdefault("X-Ms-Correlation-Request-Id", request.get("correlation_id", str(uuid.uuid4())))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")


def build_app(context: Context, extra_middlewares: tuple = ()) -> web.Application:
    """`extra_middlewares` run inside the error/logging one (registry selection, fault injection)."""
    app = web.Application(middlewares=[errors_and_logging, *extra_middlewares], client_max_size=8 * 1024 * 1024)
    app[CONTEXT] = context
    app.on_response_prepare.append(common_headers)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    in_memory: bool = False
    tls: bool = True
    anonymous_pull: bool = False
    access_token_ttl: int = 75 * 60
    refresh_token_ttl: int = 3 * 60 * 60
    tls_hosts: list[str] = field(default_factory=list)
    registry_hosts: list[str] = field(default_factory=list)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    reset: bool = False
    gc_interval: float = 0.0
    gc_grace: float = DEFAULT_GC_GRACE
    body_timeout: float = 60.0
    faults: faults.FaultPlan = field(default_factory=faults.FaultPlan)
    principals: Path | None = None  # --principals FILE: more AAD principals and their registry roles
    aad_token_ttl: int | None = None  # AAD access-token lifetime; default: access_token_ttl
    auto_approve_device_code: bool = False


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""}


def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets. On the default loopback address also ::1, so `localhost` works either way."""
    sockets: list[socket.socket] = []
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    primary = socket.socket(family, socket.SOCK_STREAM)
    primary.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    primary.bind(address)
    primary.listen(128)
    primary.setblocking(False)
    sockets.append(primary)
    if host in ("127.0.0.1", "localhost") and socket.has_ipv6:
        chosen = primary.getsockname()[1]
        extra = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            extra.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            extra.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            extra.bind(("::1", chosen))
            extra.listen(128)
            extra.setblocking(False)
            sockets.append(extra)
        except OSError:
            extra.close()
    return sockets


async def serve(options: Options) -> int:
    scratch: tempfile.TemporaryDirectory | None = None
    lock: FileLock | None = None
    if options.in_memory or options.data_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="acr-emulator-")
        data_dir = None
        tls_dir = Path(scratch.name) / "tls"
    else:
        data_dir = options.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(data_dir / "emulator.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            print(f"acr-emulator: {data_dir} is in use by another acr-emulator", file=sys.stderr)
            return 1
        tls_dir = data_dir / "tls"
        if options.reset:
            registries.reset(data_dir)
    hosted = [registries.open_hosted(None, data_dir)]
    hosted += [registries.open_hosted(name, data_dir) for name in options.registry_hosts]
    if data_dir is not None:
        registries.collect_garbage(hosted, options.gc_grace)

    key_dir = data_dir / "keys" if data_dir else None
    registry_key = await asyncio.to_thread(
        keys.load_or_create, key_dir / "registry-signing-key.pem" if key_dir else None
    )
    aad_key = await asyncio.to_thread(keys.load_or_create, key_dir / "aad-signing-key.pem" if key_dir else None)
    federated_key = await asyncio.to_thread(
        keys.load_or_create, key_dir / "federated-issuer-key.pem" if key_dir else None
    )
    directory = Directory()
    if options.principals is not None:
        try:
            directory.load_file(options.principals)
        except DirectoryError as err:
            print(f"acr-emulator: {err}", file=sys.stderr)
            return 1

    sockets = _bind(options.host, options.port)
    port = sockets[0].getsockname()[1]
    url_host = "localhost" if options.host in _LOOPBACK else options.host
    url_host_port = f"[{url_host}]:{port}" if ":" in url_host else f"{url_host}:{port}"
    ssl_context = None
    tls_files = None
    if options.tls and options.tls_cert:
        key = options.tls_key or options.tls_cert
        tls_files = tls.TlsFiles(options.tls_ca or options.tls_cert, options.tls_cert, key)
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
    elif options.tls:
        extra_hosts = options.tls_hosts + options.registry_hosts + ([] if options.host in _LOOPBACK else [options.host])
        tls_files = await asyncio.to_thread(tls.ensure_certificates, tls_dir, extra_hosts)
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
    scheme = "https" if options.tls else "http"

    aliases = {f"{h}:{port}" for h in ("localhost", "127.0.0.1", "[::1]", *options.tls_hosts)}
    aliases.add(url_host_port)
    settings = Settings(options.anonymous_pull, options.access_token_ttl, options.refresh_token_ttl, aliases)
    settings.body_timeout = options.body_timeout
    context = Context(
        registry=hosted[0].registry,
        tokens=TokenService(registry_key, options.access_token_ttl, options.refresh_token_ttl),
        aad=AadIssuer(aad_key, options.aad_token_ttl or options.access_token_ttl, directory=directory,
                      federated_key=federated_key, auto_approve_device_code=options.auto_approve_device_code),
        settings=settings,
    )
    contexts = registries.contexts_by_host(context, hosted, port)
    middlewares = (registries.selector(contexts),)
    if options.faults.active:
        middlewares += (faults.middleware(options.faults),)
    app = build_app(context, middlewares)
    app[arm.REGISTRY_HOSTS] = list(options.registry_hosts)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=3)
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()

    authority_host = f"{scheme}://{url_host_port}"
    ready = {
        "url": authority_host,
        "loginServer": url_host_port,
        "caCertPath": str(tls_files.ca_cert) if tls_files else None,
        "authorityHost": authority_host,
        "tenantId": identities.TENANT_ID,
        "authority": f"{authority_host}/{identities.TENANT_ID}",
        "clientId": identities.CLIENT_ID,
        "clientSecret": identities.CLIENT_SECRET,
        "adminUsername": identities.ADMIN_USERNAME,
        "adminPassword": identities.ADMIN_PASSWORD,
        **arm.ready_fields(),
        "dataDir": str(data_dir) if data_dir else None,
        "inMemory": data_dir is None,
        "host": options.host,
        "port": port,
        "anonymousPull": options.anonymous_pull,
        "registries": [
            {"host": name, "loginServer": f"{name}:{port}", "url": f"{scheme}://{name}:{port}"}
            for name in options.registry_hosts
        ],
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    gc_task = None
    if options.gc_interval > 0:
        gc_task = asyncio.create_task(registries.gc_loop(hosted, options.gc_interval, options.gc_grace))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if gc_task is not None:
            gc_task.cancel()
        await runner.cleanup()
        for h in hosted:
            h.close()
        if lock is not None:
            lock.release()
        if scratch is not None:
            scratch.cleanup()
    return 0
