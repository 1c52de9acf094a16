"""``acr artifact``: the ORAS push/pull workflow."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

from .._types import positive_int

helps["artifact"] = """
type: group
short-summary: Push, pull, attach and discover OCI artifacts (files), the ORAS workflow.
long-summary: >
    Same arguments and results as oras v1.x. Blobs move concurrently and streamed (constant memory); blobs the
    registry already has are skipped; large blobs go up in chunks and resume after a dropped connection.
    Credentials: -u/-p (or --password-stdin), else the Docker config, else Azure AD.
"""

helps["artifact push"] = """
type: command
short-summary: Push files to a registry as an OCI artifact.
long-summary: >
    Arguments follow 'oras push': each file is path[:mediaType] (default application/vnd.oci.image.layer.v1.tar)
    and its file name becomes its title. A directory is packed as tar+gzip (as oras does) and unpacked on pull.
    Several tags at once: ref:t1,t2. Per-file status goes to stderr (a progress line on a terminal); the
    result ('Pushed', 'Digest') to stdout, or a JSON object with --format json (or -o json).
examples:
  - name: Push a text file with a custom media type.
    text: acr artifact push myregistry.azurecr.io/samples/artifact:1.0 ./artifact.txt:application/vnd.unknown.layer.v1+txt
  - name: Push a directory and a file with two tags.
    text: acr artifact push myregistry.azurecr.io/samples/site:1.0,latest ./public ./README.md:text/markdown
  - name: Push with an explicit config and two tags.
    text: acr artifact push myregistry.azurecr.io/samples/artifact:1.0,latest --manifest-config /dev/null:application/vnd.unknown.config.v1+json ./artifact.txt
"""

helps["artifact pull"] = """
type: command
short-summary: Pull the files of an OCI artifact.
long-summary: >
    Arguments follow 'oras pull': -o/--output names the directory. Each blob's digest is checked before the
    file is renamed into place; titles that would escape the directory are refused, and an existing file with
    different content is only replaced with --overwrite (--keep-old-files keeps it). Directories pushed by
    oras or acr are unpacked; no entry may leave the directory and no link may point outside it.
examples:
  - name: Pull the text layers of an artifact into the current directory.
    text: acr artifact pull myregistry.azurecr.io/samples/artifact:1.0 --media-type application/vnd.unknown.layer.v1+txt
  - name: Pull everything into ./out.
    text: acr artifact pull myregistry.azurecr.io/samples/artifact:1.0 -o out
"""


helps["artifact attach"] = """
type: command
short-summary: Attach files to an artifact or image as a referrer (a manifest whose subject is it).
long-summary: >
    Arguments follow 'oras attach': the reference, --artifact-type, then files as path[:mediaType]. The new
    manifest is pushed by digest; registries without the referrers API get the sha256-<hex> referrers tag.
examples:
  - name: Attach a signature file to an image.
    text: acr artifact attach myregistry.azurecr.io/hello:v1 --artifact-type application/vnd.example.signature ./hello.sig
"""

helps["artifact discover"] = """
type: command
short-summary: List the referrers of an artifact or image (signatures, SBOMs ...), as a tree.
long-summary: >
    Like 'oras discover': a tree on stdout by default (--format tree), grouped by artifact type; the direct
    referrers as a table with --format table; JSON with --format json or -o json. --artifact-type filters
    the first level.
examples:
  - name: Show what is attached to an image.
    text: acr artifact discover myregistry.azurecr.io/hello:v1
  - name: Only the signatures, as JSON.
    text: acr artifact discover myregistry.azurecr.io/hello:v1 --artifact-type application/vnd.example.signature -o json
  - name: The direct referrers as a table.
    text: acr artifact discover myregistry.azurecr.io/hello:v1 --format table
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "artifact", "azext_acr.commands.artifact#{}") as g:
        g.command("push", "acr_artifact_push")
        g.command("pull", "acr_artifact_pull")
        g.command("attach", "acr_artifact_attach")
        g.command("discover", "acr_artifact_discover")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "artifact push") as c:
        c.positional("target", nargs="+", metavar="REFERENCE [FILE[:MEDIA_TYPE] ...]",
                     help="The artifact reference, <registry>/<repository>[:tag[,tag...]], then the files to push, "
                          "each as path[:mediaType].")
    with ArgumentsContext(loader, "artifact pull") as c:
        c.positional("target", help="The artifact reference: <registry>/<repository>[:tag|@digest].")
    with ArgumentsContext(loader, "artifact attach") as c:
        c.positional("target", nargs="+", metavar="REFERENCE [FILE[:MEDIA_TYPE] ...]",
                     help="The subject, <registry>/<repository>[:tag|@digest], then the files to attach.")
        c.argument("artifact_type", options_list=["--artifact-type"], required=True,
                   help="The artifact type of the attached manifest.")
    with ArgumentsContext(loader, "artifact discover") as c:
        c.positional("target", help="The subject: <registry>/<repository>[:tag|@digest].")
        c.argument("artifact_type", options_list=["--artifact-type"],
                   help="Only referrers of this artifact type (first level).")
        c.argument("depth", options_list=["--depth"], type=positive_int,
                   help="How many levels of referrers to follow (default: all, up to 16).")
    with ArgumentsContext(loader, "artifact") as c:
        c.argument("username", options_list=["--username", "-u"], help="Registry username.")
        c.argument("password", options_list=["--password", "-p"], help="Registry password or identity token.")
    for command in ("artifact push", "artifact attach"):
        with ArgumentsContext(loader, command) as c:
            c.argument("annotation", options_list=["--annotation", "-a"], action="append",
                       help="A manifest annotation, key=value. Repeatable.")
            c.argument("annotation_file", options_list=["--annotation-file"],
                       help="A JSON file of annotations: {\"$manifest\": {...}, \"<file title>\": {...}}.")
    for command in ("artifact push", "artifact attach", "artifact pull"):
        with ArgumentsContext(loader, command) as c:
            c.argument("concurrency", options_list=["--concurrency"], type=positive_int,
                       help="How many blobs to transfer at once (default 3, at most 32).")
    with ArgumentsContext(loader, "artifact push") as c:
        c.argument("manifest_config", options_list=["--manifest-config", "--config"],
                   help="The manifest's config file, as path[:mediaType].")
        c.argument("artifact_type", options_list=["--artifact-type"], help="The artifact type of the manifest.")
    with ArgumentsContext(loader, "artifact pull") as c:
        c.argument("media_type", options_list=["--media-type"], action="append",
                   help="Pull only layers of this media type. Repeatable.")
        c.argument("output_directory", options_list=["--output-directory"],
                   help="The directory to write files to (oras' -o/--output also works). Default: current.")
        c.argument("keep_old_files", options_list=["--keep-old-files", "-k"], action="store_true",
                   help="Keep files that already exist instead of overwriting them.")
        c.argument("overwrite", options_list=["--overwrite"], action="store_true",
                   help="Replace files that exist with different content.")
