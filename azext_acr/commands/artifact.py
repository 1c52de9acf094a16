"""``acr artifact push|pull``: the ORAS workflow (files in, OCI artifact manifest out, and back)."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from knack.log import get_logger
from knack.util import CLIError

from ._common import read_password_stdin

logger = get_logger(__name__)

DEFAULT_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPES = ("application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json")
EMPTY_CONFIG_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
DEFAULT_ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1"
TITLE = "org.opencontainers.image.title"
CREATED = "org.opencontainers.image.created"


def _status(message: str) -> None:
    """Per-blob status lines (oras' 'Uploading …'): stderr, so stdout stays the result."""
    print(message, file=sys.stderr, flush=True)


def _split_media_type(spec: str, default: str | None) -> tuple[str, str | None]:
    """``path[:mediaType]``, split at the last colon only when what follows looks like a media type."""
    path, sep, media_type = spec.rpartition(":")
    if sep and path and "/" in media_type:
        return path, media_type
    return spec, default


def _parse_annotations(annotation, annotation_file) -> tuple[dict, dict]:
    """(manifest annotations, per-file annotations keyed by title), oras' ``$manifest`` convention."""
    manifest: dict[str, str] = {}
    files: dict[str, dict] = {}
    if annotation_file:
        try:
            data = json.loads(Path(annotation_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CLIError(f"Cannot read the annotation file '{annotation_file}': {err}") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise CLIError(f"The annotation file '{annotation_file}' must map names to objects of strings.")
        for key, values in data.items():
            target = manifest if key == "$manifest" else files.setdefault(key, {})
            target.update({str(k): str(v) for k, v in values.items()})
    for item in annotation or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"Invalid annotation '{item}': use key=value.")
        manifest[key] = value
    return manifest, files


def _open(reference: str, username, password, password_stdin, tags_multi: bool = False):
    from ..registry import connect
    from ..registry.credentials import resolve_credential
    from ..registry.reference import parse_reference

    ref, tags = parse_reference(reference, tags_allowed_multi=tags_multi)
    password = read_password_stdin(password, password_stdin)
    registry = connect(ref.registry, resolve_credential(ref.registry, username, password))
    registry.session.ping()
    return registry, ref, tags


def acr_artifact_push(target, manifest_config=None, artifact_type=None, annotation=None,
                      annotation_file=None, concurrency=3, username=None, password=None, password_stdin=False):
    from ..registry.oci import file_digest, sha256_digest

    reference, files = target[0], target[1:]
    manifest_annotations, file_annotations = _parse_annotations(annotation, annotation_file)
    layers_to_push = []
    for spec in files:
        path, media_type = _split_media_type(spec, DEFAULT_LAYER_MEDIA_TYPE)
        if os.path.isdir(path):
            raise CLIError(f"'{path}' is a directory; pushing directories is not supported yet: tar it first.")
        if not os.path.isfile(path):
            raise CLIError(f"File '{path}' does not exist or is not a regular file.")
        layers_to_push.append((path, media_type, os.path.basename(os.path.normpath(path))))
    titles = [title for _, _, title in layers_to_push]
    if len(set(titles)) != len(titles):
        raise CLIError("Two files share the same name; each file's name becomes its title and must be unique.")

    registry, ref, tags = _open(reference, username, password, password_stdin, tags_multi=True)
    repository = ref.repository

    if manifest_config:
        config_path, config_type = _split_media_type(manifest_config, "application/vnd.oci.image.config.v1+json")
        if not os.path.exists(config_path):
            raise CLIError(f"Config file '{config_path}' does not exist.")
        config_digest, config_size = file_digest(config_path)
        config = {"mediaType": config_type, "digest": config_digest, "size": config_size}
        blobs = [(config_path, config_digest, config_size, "config", None)]
    else:
        config_digest = sha256_digest(EMPTY_CONFIG)
        config = {"mediaType": EMPTY_CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(EMPTY_CONFIG),
                  "data": "e30="}
        blobs = [(None, config_digest, len(EMPTY_CONFIG), "config", EMPTY_CONFIG)]
        artifact_type = artifact_type or DEFAULT_ARTIFACT_TYPE

    layers = []
    for path, media_type, title in layers_to_push:
        digest, size = file_digest(path)
        descriptor = {"mediaType": media_type, "digest": digest, "size": size,
                      "annotations": {**file_annotations.get(title, {}), TITLE: title}}
        layers.append(descriptor)
        blobs.append((path, digest, size, title, None))

    def push_blob(blob) -> None:
        path, digest, size, name, data = blob
        if registry.oci.blob_exists(repository, digest):
            _status(f"Exists    {digest[7:19]} {name}")
            return
        _status(f"Uploading {digest[7:19]} {name}")
        if data is not None:
            registry.oci.upload_bytes(repository, data, digest)
        else:
            registry.oci.upload_blob(repository, path, digest, size)

    unique = list({blob[1]: blob for blob in blobs}.values())
    workers = max(1, min(int(concurrency or 3), 32))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(push_blob, blob) for blob in unique]:
            future.result()

    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    manifest["config"] = config
    manifest["layers"] = layers
    manifest["annotations"] = {CREATED: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **manifest_annotations}
    content = json.dumps(manifest, separators=(",", ":")).encode()
    digest = sha256_digest(content)
    for tag in tags or [digest]:
        registry.oci.put_manifest(repository, tag, content, MANIFEST_MEDIA_TYPE)
    pushed = [f"{ref.registry}/{repository}:{tag}" for tag in tags] or [f"{ref.registry}/{repository}@{digest}"]
    return {"reference": pushed[0], "references": pushed, "digest": digest, "mediaType": MANIFEST_MEDIA_TYPE,
            "size": len(content), "artifactType": artifact_type,
            "files": [{"path": path, "title": title, "mediaType": mt} for path, mt, title in layers_to_push]}


def acr_artifact_pull(target, media_type=None, output_directory=".", keep_old_files=False, overwrite=False,
                      username=None, password=None, password_stdin=False):
    from ..registry.oci import file_digest

    registry, ref, _ = _open(target, username, password, password_stdin)
    manifest = registry.oci.get_manifest(ref.repository, ref.identifier)
    if manifest.media_type in INDEX_MEDIA_TYPES:
        raise CLIError(f"'{target}' is an image index; pull one of its manifests by digest.")
    try:
        document = json.loads(manifest.content)
        layers = document.get("layers") or document.get("blobs") or []
    except (ValueError, AttributeError):
        raise CLIError(f"The manifest of '{target}' is not valid JSON.") from None
    wanted = set(media_type or [])
    out_dir = Path(output_directory).resolve()
    plan = []
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        title = (layer.get("annotations") or {}).get(TITLE)
        if not title or (wanted and layer.get("mediaType") not in wanted):
            continue
        destination = _safe_destination(out_dir, title)
        plan.append((layer, title, destination))

    files = []
    for layer, title, destination in plan:
        digest = layer.get("digest", "")
        if destination.exists():
            if keep_old_files:
                _status(f"Skipped   {digest[7:19]} {title} (file exists)")
                continue
            if not overwrite and file_digest(destination)[0] != digest:
                raise CLIError(f"'{destination}' already exists and differs from the artifact; pass --overwrite "
                               "to replace it or --keep-old-files to keep it.")
        _status(f"Downloading {digest[7:19]} {title}")
        registry.oci.download_blob(ref.repository, digest, destination)
        files.append({"path": str(destination), "title": title, "digest": digest,
                      "mediaType": layer.get("mediaType"), "size": layer.get("size")})
    if not plan:
        logger.warning("No files were pulled: the artifact has no file layers%s.",
                       " of the requested media type" if wanted else "")
    return {"reference": str(ref), "digest": manifest.digest, "mediaType": manifest.media_type,
            "size": len(manifest.content), "files": files}


def _safe_destination(out_dir: Path, title: str) -> Path:
    """Refuse titles that would land outside the output directory (absolute paths, ``..``)."""
    if os.path.isabs(title) or title.startswith(("/", "\\")) or "\x00" in title:
        raise CLIError(f"Refusing to write '{title}': absolute paths are not allowed in file titles.")
    destination = (out_dir / title).resolve()
    if destination != out_dir and out_dir not in destination.parents:
        raise CLIError(f"Refusing to write '{title}': it would land outside the output directory '{out_dir}'.")
    return destination
