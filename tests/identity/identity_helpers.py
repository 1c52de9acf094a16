"""Helpers for the identity tests: the emulator's AAD controls, certificates, token claims."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from pathlib import Path

import requests

ACR_SCOPE = "https://containerregistry.azure.net/.default"
AZ_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEV_USER = "developer@acr-emulator.localhost"
DEV_SP_OBJECT_ID = "dec0de00-0000-4000-8000-00000000ac02"
MANAGED_IDENTITY_OBJECT_ID = "dec0de00-0000-4000-8000-00000000ac04"
# environment a test clears so that no identity source is configured by accident
NO_IDENTITY = {name: None for name in (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
    "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "ACR_IDENTITY", "AZURE_CONFIG_DIR")}


def control(emulator, method: str, path: str, **kwargs):
    """Call one of the emulator's test-only `/_emulator/aad/` endpoints."""
    response = requests.request(method, emulator.url + "/_emulator/aad/" + path, verify=emulator.ca_cert,
                                timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def stats(emulator) -> dict:
    return control(emulator, "GET", "stats")


def delta(before: dict, after: dict, key: str) -> int:
    return after.get(key, 0) - before.get(key, 0)


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed_in_subject(result) -> str:
    """Who `acr login --expose-token` signed in as: the subject of the ACR refresh token it printed."""
    assert result.code == 0, result.stderr
    return claims(result.json["refreshToken"])["sub"]


def make_certificate(path: Path, common_name: str = "acr-identity-test") -> str:
    """A self-signed certificate and its key in one PEM file (what AZURE_CLIENT_CERTIFICATE_PATH takes);
    returns the certificate's PEM alone (what the emulator's directory registers)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path.write_text(key_pem + cert_pem)
    return cert_pem


def register_certificate_principal(emulator, cert_pem: str, roles=None) -> dict:
    body = {"clientId": str(uuid.uuid4()), "displayName": "cert-sp", "certificate": cert_pem}
    if roles is not None:
        body["roles"] = roles
    return control(emulator, "POST", "principals", json=body)


def federated_token_file(emulator, path: Path, **request) -> Path:
    path.write_text(control(emulator, "POST", "federated-token", json=request)["token"])
    return path


def write_az_files(emulator, config_dir: Path) -> None:
    """What `az login` (device code) leaves in AZURE_CONFIG_DIR for a local cloud, produced the way az does
    it - MSAL's PublicClientApplication with az's client id - and approved through the emulator."""
    import threading

    import msal

    config_dir.mkdir(parents=True, exist_ok=True)
    cache = msal.SerializableTokenCache()
    http = requests.Session()
    http.verify = emulator.ca_cert
    http.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    app = msal.PublicClientApplication(AZ_CLIENT_ID, authority=emulator.info["authority"], http_client=http,
                                       instance_discovery=False, token_cache=cache)
    flow = app.initiate_device_flow(scopes=["https://management.core.windows.net//.default"])
    threading.Timer(0.2, control, (emulator, "POST", "device/approve"), {"json": {"user_code": flow["user_code"]}}
                    ).start()
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    (config_dir / "msal_token_cache.json").write_text(cache.serialize())
    tenant = emulator.info["tenantId"]
    profile = {"installationId": str(uuid.uuid4()), "subscriptions": [{
        "id": emulator.info["subscriptionId"], "name": "acr-emulator", "state": "Enabled", "tenantId": tenant,
        "isDefault": True, "environmentName": "Local", "homeTenantId": tenant, "managedByTenants": [],
        "user": {"name": DEV_USER, "type": "user"}}]}
    (config_dir / "azureProfile.json").write_text("\ufeff" + json.dumps(profile), encoding="utf-8")
    (config_dir / "clouds.config").write_text(
        f"[Local]\nendpoint_active_directory = {emulator.url}\n"
        f"endpoint_resource_manager = {emulator.url}/\n")
    (config_dir / "config").write_text("[cloud]\nname = Local\n\n[core]\ninstance_discovery = false\n")
