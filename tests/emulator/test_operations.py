"""Running the emulator: several registries by Host header, --reset, --tls-cert, certificate names."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from emulator_helpers import OCI_MANIFEST, digest_of, make_registry

A = "reg-a.azurecr.test"
B = "reg-b.azurecr.test"


def _as(registry, host: str, method: str, path: str, **kwargs):
    """A request to the emulator's address that names `host` in its Host header, as a DNS alias would."""
    port = registry.emulator.info["port"]
    headers = {"Host": f"{host}:{port}", **kwargs.pop("headers", {})}
    url = f"{registry.url.split('://')[0]}://127.0.0.1:{port}{path}"
    return registry.session.request(method, url, headers=headers, **kwargs)


def _token(registry, host: str, scope: str) -> dict[str, str]:
    response = _as(registry, host, "GET", "/oauth2/token", params={"scope": scope}, auth=registry.admin)
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["access_token"]}


def test_registries_are_chosen_by_host_and_isolated(tmp_path, launch):
    emu = launch("--registry-host", A, "--registry-host", B.upper(), data_dir=tmp_path / "data")
    port = emu.info["port"]
    assert [r["loginServer"] for r in emu.info["registries"]] == [f"{A}:{port}", f"{B}:{port}"]
    registry = make_registry(emu)

    blob = b"only in registry a"
    a_push = _token(registry, A, "repository:shared/name:push,pull")
    location = _as(registry, A, "POST", "/v2/shared/name/blobs/uploads/", headers=a_push).headers["Location"]
    done = _as(registry, A, "PUT", location, params={"digest": digest_of(blob)}, data=blob, headers=a_push)
    assert done.status_code == 201
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
        "config": {"mediaType": "application/vnd.unknown.config.v1+json", "digest": digest_of(blob), "size": len(blob)},
    })
    put = _as(registry, A, "PUT", "/v2/shared/name/manifests/v1", data=manifest,
              headers={**a_push, "Content-Type": OCI_MANIFEST})
    assert put.status_code == 201, put.text

    challenge = _as(registry, A, "GET", "/v2/shared/name/blobs/" + digest_of(blob))
    assert challenge.status_code == 401
    assert f'realm="https://{A}:{port}/oauth2/token",service="{A}:{port}"' in challenge.headers["WWW-Authenticate"]

    assert _as(registry, A, "GET", f"/v2/shared/name/blobs/{digest_of(blob)}", headers=a_push).content == blob
    b_pull = _token(registry, B, "repository:shared/name:pull")
    assert _as(registry, B, "GET", f"/v2/shared/name/blobs/{digest_of(blob)}", headers=b_pull).status_code == 404
    default_pull = registry.bearer("repository:shared/name:pull")
    assert registry.request("HEAD", f"/v2/shared/name/blobs/{digest_of(blob)}", headers=default_pull
                            ).status_code == 404

    # a token names its registry: the others refuse it
    refused = _as(registry, B, "GET", f"/v2/shared/name/blobs/{digest_of(blob)}", headers=a_push)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert registry.request("GET", "/v2/", headers=a_push).status_code == 401

    catalog = {h: _as(registry, h, "GET", "/v2/_catalog", auth=registry.admin).json()["repositories"] for h in (A, B)}
    assert catalog == {A: ["shared/name"], B: []}
    assert (tmp_path / "data" / "registries" / A / "registry.db").exists()

    # the generated certificate covers the default names and every registry host
    cert = x509.load_pem_x509_certificate((tmp_path / "data" / "tls" / "server.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", A, B} <= set(san.get_values_for_type(x509.DNSName))
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= set(
        san.get_values_for_type(x509.IPAddress)
    )


def test_reset_wipes_registry_state_but_keeps_the_ca(tmp_path, launch):
    data_dir = tmp_path / "data"
    first = launch(data_dir=data_dir)
    make_registry(first).push_image("reset/me", "v1")
    ca = open(first.ca_cert).read()
    first.stop()

    kept = launch(data_dir=data_dir)
    registry = make_registry(kept)
    assert registry.request("GET", "/v2/_catalog", auth=registry.admin).json()["repositories"] == ["reset/me"]
    kept.stop()

    wiped = launch("--reset", data_dir=data_dir)
    registry = make_registry(wiped)
    assert registry.request("GET", "/v2/_catalog", auth=registry.admin).json()["repositories"] == []
    assert open(wiped.ca_cert).read() == ca
    assert not list((data_dir / "blobs" / "sha256").iterdir())


def _self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "my own registry cert")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_tls_cert_serves_the_given_certificate(tmp_path, launch):
    cert, key = _self_signed(tmp_path)
    emu = launch("--tls-cert", cert, "--tls-key", key)
    assert emu.info["caCertPath"] == cert
    registry = make_registry(emu)
    assert registry.request("GET", "/v2/", auth=registry.admin).status_code == 200
    served = ssl.get_server_certificate(("127.0.0.1", emu.info["port"]))
    assert x509.load_pem_x509_certificate(served.encode()) == x509.load_pem_x509_certificate(open(cert, "rb").read())
