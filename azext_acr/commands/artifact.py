"""``acr artifact push|pull|attach|discover``: the ORAS workflow (files in, OCI manifest out, and back).

Arguments and results follow oras v1.x. Blobs move concurrently and streamed (constant memory),
blobs the registry already has are skipped, a blob this machine saw in another repository of the
same registry is mounted from there instead of uploaded, and pulled files are digest-checked
before they are renamed into place, never outside the output directory.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from knack.log import get_logger
from knack.util import CLIError

from ..registry import PerThread
from ..registry.blobsources import BlobSources
from ._common import read_password_stdin
from ._progress import Reporter

logger = get_logger(__name__)

DEFAULT_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
DIRECTORY_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
INDEX_MEDIA_TYPES = (INDEX_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.list.v2+json")
EMPTY_CONFIG_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
DEFAULT_ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1"
TITLE = "org.opencontainers.image.title"
CREATED = "org.opencontainers.image.created"
# oras' annotations on a directory packed as tar+gzip: the digest of the uncompressed tar, and "unpack me".
CONTENT_DIGEST = "io.deis.oras.content.digest"
CONTENT_UNPACK = "io.deis.oras.content.unpack"
DEFAULT_CONCURRENCY = 3
MAX_CONCURRENCY = 32


# -- arguments -----------------------------------------------------------------------------------
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


def _workers(concurrency) -> int:
    return max(1, min(int(concurrency or DEFAULT_CONCURRENCY), MAX_CONCURRENCY))


def _open(reference: str, username, password, password_stdin, tags_multi: bool = False):
    from ..registry import connect
    from ..registry.credentials import resolve_credential
    from ..registry.reference import parse_reference

    ref, tags = parse_reference(reference, tags_allowed_multi=tags_multi)
    password = read_password_stdin(password, password_stdin)
    registry = connect(ref.registry, resolve_credential(ref.registry, username, password))
    registry.session.ping()
    return registry, ref, tags


def _run_concurrently(function, items, concurrency) -> list:
    if not items:
        return []
    workers = min(_workers(concurrency), len(items))
    if workers == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


# -- push ----------------------------------------------------------------------------------------
class _Blob:
    """A blob to push: a file (or bytes), its descriptor once hashed, and the name shown in status."""

    def __init__(self, name: str, media_type: str, path: str | None = None, data: bytes | None = None,
                 annotations: dict | None = None):
        self.name = name
        self.media_type = media_type
        self.path = path
        self.data = data
        self.annotations = annotations or {}
        self.digest = ""
        self.size = 0

    def descriptor(self, *, with_data: bool = False) -> dict:
        descriptor = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if with_data and self.data is not None:
            import base64

            descriptor["data"] = base64.b64encode(self.data).decode("ascii")
        if self.annotations:
            descriptor["annotations"] = dict(self.annotations)
        return descriptor


def _collect_files(files, file_annotations, staging: Path) -> list[_Blob]:
    """oras' file arguments: ``path[:mediaType]``; a directory becomes a tar+gzip layer."""
    from ._tarball import pack_directory

    blobs = []
    for spec in files:
        path, media_type = _split_media_type(spec, None)
        title = os.path.basename(os.path.normpath(path))
        if os.path.isdir(path):
            archive = staging / f"{len(blobs)}.tar.gz"
            tar_digest = pack_directory(path, title, archive)
            annotations = {**file_annotations.get(title, {}), TITLE: title,
                           CONTENT_DIGEST: tar_digest, CONTENT_UNPACK: "true"}
            blobs.append(_Blob(title, media_type or DIRECTORY_MEDIA_TYPE, str(archive), annotations=annotations))
        elif os.path.isfile(path):
            annotations = {**file_annotations.get(title, {}), TITLE: title}
            blobs.append(_Blob(title, media_type or DEFAULT_LAYER_MEDIA_TYPE, path, annotations=annotations))
        else:
            raise CLIError(f"File '{path}' does not exist or is not a regular file or directory.")
    titles = [blob.name for blob in blobs]
    if len(set(titles)) != len(titles):
        raise CLIError("Two files share the same name; each file's name becomes its title and must be unique.")
    return blobs


def _config_blob(manifest_config) -> _Blob:
    from ..registry.oci import sha256_digest

    if manifest_config:
        config_path, config_type = _split_media_type(manifest_config, "application/vnd.oci.image.config.v1+json")
        if not os.path.exists(config_path):
            raise CLIError(f"Config file '{config_path}' does not exist.")
        return _Blob("config", config_type, config_path)
    blob = _Blob("config", EMPTY_CONFIG_MEDIA_TYPE, data=EMPTY_CONFIG)
    blob.digest, blob.size = sha256_digest(EMPTY_CONFIG), len(EMPTY_CONFIG)
    return blob


def _push_blobs(registry, repository: str, blobs: list[_Blob], concurrency, reporter: Reporter) -> None:
    """Hash, then skip (exists), mount (seen elsewhere) or upload each distinct blob, concurrently."""
    from ..registry.oci import file_digest, sha256_digest

    sources = BlobSources(registry.login_server)
    apis = PerThread(registry)

    def measure(blob: _Blob) -> None:
        if not blob.digest:
            if blob.data is not None:
                blob.digest, blob.size = sha256_digest(blob.data), len(blob.data)
            else:
                blob.digest, blob.size = file_digest(blob.path)

    def push(blob: _Blob) -> None:
        oci = apis.get().oci
        if oci.blob_exists(repository, blob.digest):
            reporter.status("Exists", blob.digest, blob.name)
            reporter.advance(blob.size)
        elif blob.data is not None:
            reporter.status("Uploading", blob.digest, blob.name)
            oci.upload_bytes(repository, blob.data, blob.digest)
            reporter.advance(blob.size)
        else:
            source = sources.source_of(blob.digest, repository)
            announced = [False]

            def uploading(count: int) -> None:  # announced at the first byte: a mount sends none
                if not announced[0]:
                    announced[0] = True
                    reporter.status("Uploading", blob.digest, blob.name)
                reporter.advance(count)

            how = oci.upload_blob(repository, blob.path, blob.digest, blob.size, mount_from=source,
                                  progress=uploading, on_resume=reporter.resumer(blob.digest, blob.name))
            if how == "mounted":
                reporter.status("Mounted", blob.digest, f"{blob.name} (from {source})")
                reporter.advance(blob.size)
            elif not announced[0]:
                reporter.status("Uploading", blob.digest, blob.name)
        sources.record(blob.digest, repository)

    try:
        _run_concurrently(measure, blobs, concurrency)
        unique = list({blob.digest: blob for blob in blobs}.values())
        reporter.add_total(sum(blob.size for blob in unique))
        registry.oci.blob_exists(repository, unique[0].digest)  # warm the token cache before fanning out
        _run_concurrently(push, unique, concurrency)
    finally:
        reporter.finish()
        apis.close()
        sources.save()


def _manifest(config: _Blob, layers: list[_Blob], artifact_type, annotations: dict, subject=None) -> bytes:
    manifest: dict = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    manifest["config"] = config.descriptor(with_data=config.media_type == EMPTY_CONFIG_MEDIA_TYPE)
    manifest["layers"] = [layer.descriptor() for layer in layers]
    if subject:
        manifest["subject"] = subject
    manifest["annotations"] = {CREATED: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **annotations}
    return json.dumps(manifest, separators=(",", ":")).encode()


def _files_result(layers: list[_Blob], specs) -> list[dict]:
    return [{"path": _split_media_type(spec, None)[0], "title": layer.name, "mediaType": layer.media_type,
             "digest": layer.digest, "size": layer.size} for layer, spec in zip(layers, specs, strict=True)]


def acr_artifact_push(target, manifest_config=None, artifact_type=None, annotation=None,
                      annotation_file=None, concurrency=DEFAULT_CONCURRENCY, username=None, password=None,
                      password_stdin=False):
    from ..registry.oci import sha256_digest

    reference, files = target[0], target[1:]
    manifest_annotations, file_annotations = _parse_annotations(annotation, annotation_file)
    registry, ref, tags = _open(reference, username, password, password_stdin, tags_multi=True)
    repository = ref.repository
    with tempfile.TemporaryDirectory(prefix="acr-push-") as staging:
        layers = _collect_files(files, file_annotations, Path(staging))
        config = _config_blob(manifest_config)
        if not manifest_config:
            artifact_type = artifact_type or DEFAULT_ARTIFACT_TYPE
        _push_blobs(registry, repository, [config, *layers], concurrency, Reporter("Uploading"))
    content = _manifest(config, layers, artifact_type, manifest_annotations)
    digest = sha256_digest(content)
    for tag in tags or [digest]:
        registry.oci.put_manifest(repository, tag, content, MANIFEST_MEDIA_TYPE)
    pushed = [f"{ref.registry}/{repository}:{tag}" for tag in tags] or [f"{ref.registry}/{repository}@{digest}"]
    return {"reference": pushed[0], "references": pushed, "digest": digest, "mediaType": MANIFEST_MEDIA_TYPE,
            "size": len(content), "artifactType": artifact_type, "files": _files_result(layers, files)}


# -- attach and discover -------------------------------------------------------------------------
def acr_artifact_attach(target, artifact_type, annotation=None, annotation_file=None,
                        concurrency=DEFAULT_CONCURRENCY, username=None, password=None, password_stdin=False):
    from ..registry.oci import sha256_digest

    reference, files = target[0], target[1:]
    manifest_annotations, file_annotations = _parse_annotations(annotation, annotation_file)
    if not files and not manifest_annotations:
        raise CLIError("Nothing to attach: give files or --annotation.")
    registry, ref, _ = _open(reference, username, password, password_stdin)
    repository = ref.repository
    subject_manifest = registry.oci.get_manifest(repository, ref.identifier)
    subject = {"mediaType": subject_manifest.media_type or MANIFEST_MEDIA_TYPE, "digest": subject_manifest.digest,
               "size": len(subject_manifest.content)}
    with tempfile.TemporaryDirectory(prefix="acr-attach-") as staging:
        layers = _collect_files(files, file_annotations, Path(staging))
        config = _config_blob(None)
        _push_blobs(registry, repository, [config, *layers], concurrency, Reporter("Uploading"))
    content = _manifest(config, layers, artifact_type, manifest_annotations, subject=subject)
    digest = sha256_digest(content)
    registry.oci.put_manifest(repository, digest, content, MANIFEST_MEDIA_TYPE)
    if not registry.oci.has_referrers_api(repository, subject["digest"]):
        descriptor = {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(content),
                      "artifactType": artifact_type}
        if manifest_annotations:
            descriptor["annotations"] = manifest_annotations
        registry.oci.add_to_referrers_tag(repository, subject["digest"], descriptor)
    subject_ref = f"{ref.registry}/{repository}@{subject['digest']}"
    return {"reference": f"{ref.registry}/{repository}@{digest}", "subject": subject_ref, "digest": digest,
            "mediaType": MANIFEST_MEDIA_TYPE, "size": len(content), "artifactType": artifact_type,
            "files": _files_result(layers, files)}


def acr_artifact_discover(target, artifact_type=None, depth=None, username=None, password=None,
                          password_stdin=False):
    registry, ref, _ = _open(target, username, password, password_stdin)
    repository = ref.repository
    root = registry.oci.get_manifest(repository, ref.identifier)
    limit = depth if depth else 16

    def walk(digest: str, level: int, seen: frozenset) -> list[dict]:
        nodes = []
        referrers = registry.oci.referrers(repository, digest, artifact_type if level == 1 else None)
        for descriptor in (d for d in referrers if isinstance(d, dict)):
            node = {"reference": f"{ref.registry}/{repository}@{descriptor.get('digest')}",
                    "mediaType": descriptor.get("mediaType"), "digest": descriptor.get("digest"),
                    "size": descriptor.get("size"), "artifactType": descriptor.get("artifactType")}
            if descriptor.get("annotations"):
                node["annotations"] = descriptor["annotations"]
            child = descriptor.get("digest")
            if level < limit and isinstance(child, str) and child not in seen:
                node["manifests"] = walk(child, level + 1, seen | {child})
            nodes.append(node)
        return nodes

    return {"reference": f"{ref.registry}/{repository}@{root.digest}", "mediaType": root.media_type,
            "digest": root.digest, "size": len(root.content),
            "manifests": walk(root.digest, 1, frozenset({root.digest}))}


# -- pull ----------------------------------------------------------------------------------------
def acr_artifact_pull(target, media_type=None, output_directory=".", keep_old_files=False, overwrite=False,
                      concurrency=DEFAULT_CONCURRENCY, username=None, password=None, password_stdin=False):
    registry, ref, _ = _open(target, username, password, password_stdin)
    manifest = registry.oci.get_manifest(ref.repository, ref.identifier)
    if manifest.media_type in INDEX_MEDIA_TYPES:
        raise CLIError(f"'{target}' is an image index; pull one of its manifests by digest.")
    from ..registry.manifest import layer_descriptors, parse_manifest

    layers = layer_descriptors(parse_manifest(manifest.content, f"'{target}'"), f"'{target}'")
    wanted = set(media_type or [])
    out_dir = Path(output_directory).resolve()
    plan = _pull_plan(layers, wanted, out_dir)
    todo = [item for item in plan if _should_write(item, keep_old_files, overwrite)]
    reporter = Reporter("Downloading", sum(int(item[0].get("size") or 0) for item in todo))
    sources = BlobSources(registry.login_server)
    apis = PerThread(registry)

    def pull(item) -> dict:
        layer, title, destination = item
        digest = layer["digest"]
        reporter.status("Downloading", digest, title)
        oci = apis.get().oci
        if _unpacks(layer):
            _pull_directory(oci, ref.repository, layer, title, out_dir, destination, overwrite, reporter)
        else:
            oci.download_blob(ref.repository, digest, destination, progress=reporter.advance,
                              on_resume=reporter.resumer(digest, title))
        sources.record(digest, ref.repository)
        return {"path": str(destination), "title": title, "digest": digest,
                "mediaType": layer.get("mediaType"), "size": layer.get("size")}

    try:  # the manifest fetch above cached the pull token every worker uses
        files = _run_concurrently(pull, todo, concurrency)
    finally:
        reporter.finish()
        apis.close()
        sources.save()
    if not plan:
        logger.warning("No files were pulled: the artifact has no file layers%s.",
                       " of the requested media type" if wanted else "")
    return {"reference": str(ref), "digest": manifest.digest, "mediaType": manifest.media_type,
            "size": len(manifest.content), "files": files}


def _pull_plan(layers, wanted: set, out_dir: Path) -> list[tuple[dict, str, Path]]:
    """Which layers to write where. Every title is checked before anything is written."""
    from ..registry.reference import is_valid_digest

    plan = []
    destinations: set[Path] = set()
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        title = (layer.get("annotations") or {}).get(TITLE)
        if not title or (wanted and layer.get("mediaType") not in wanted):
            continue
        if not isinstance(layer.get("digest"), str) or not is_valid_digest(layer["digest"]):
            raise CLIError(f"The layer titled '{title}' has no valid digest.")
        destination = _safe_destination(out_dir, str(title))
        if destination in destinations:
            raise CLIError(f"Two layers are titled '{title}'; refusing to write the same file twice.")
        destinations.add(destination)
        plan.append((layer, str(title), destination))
    return plan


def _should_write(item, keep_old_files: bool, overwrite: bool) -> bool:
    from ..registry.oci import file_digest

    layer, title, destination = item
    digest = layer["digest"]
    if not os.path.lexists(destination):
        return True
    if keep_old_files:
        print(f"{'Skipped':<11} {digest[7:19]} {title} (exists)", file=sys.stderr, flush=True)
        return False
    if overwrite:
        return True
    if _unpacks(layer) or destination.is_dir():
        raise CLIError(f"'{destination}' already exists; pass --overwrite to replace it or --keep-old-files "
                       "to keep it.")
    if destination.is_file() and not destination.is_symlink() and file_digest(destination)[0] == digest:
        return True
    raise CLIError(f"'{destination}' already exists and differs from the artifact; pass --overwrite "
                   "to replace it or --keep-old-files to keep it.")


def _unpacks(layer: dict) -> bool:
    return (layer.get("annotations") or {}).get(CONTENT_UNPACK) == "true"


def _pull_directory(oci, repository, layer, title, out_dir: Path, destination: Path, overwrite: bool,
                    reporter: Reporter) -> None:
    """Download a tar+gzip directory layer, unpack it into a staging directory, then move it into place."""
    from ._tarball import UnsafeArchive, unpack_directory

    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".acr-unpack-", dir=out_dir))
    try:
        archive = staging / "layer.tar.gz"
        oci.download_blob(repository, layer["digest"], archive, progress=reporter.advance,
                          on_resume=reporter.resumer(layer["digest"], title))
        tree = staging / "tree"
        try:
            unpack_directory(archive, tree, title, (layer.get("annotations") or {}).get(CONTENT_DIGEST))
        except UnsafeArchive as err:
            raise CLIError(f"Refusing to unpack '{title}': {err}") from None
        if os.path.lexists(destination):
            if not overwrite:
                raise CLIError(f"'{destination}' appeared while pulling; pass --overwrite to replace it.")
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            else:
                destination.unlink()
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tree / title, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _safe_destination(out_dir: Path, title: str) -> Path:
    """Refuse titles that would land outside the output directory (absolute paths, ``..``, links)."""
    if (os.path.isabs(title) or title.startswith(("/", "\\")) or "\x00" in title or "\\" in title
            or (len(title) > 1 and title[1] == ":")):
        raise CLIError(f"Refusing to write '{title}': absolute paths are not allowed in file titles.")
    if any(part == ".." for part in title.split("/")):
        raise CLIError(f"Refusing to write '{title}': it would land outside the output directory '{out_dir}'.")
    destination = (out_dir / title).resolve()
    if destination == out_dir or out_dir not in destination.parents:
        raise CLIError(f"Refusing to write '{title}': it would land outside the output directory '{out_dir}'.")
    return out_dir / title
