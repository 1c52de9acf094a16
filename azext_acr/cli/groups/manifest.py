"""``acr manifest`` (preview, as in az): list, list-metadata, show, show-metadata, update-metadata,
delete, list-referrers."""

from __future__ import annotations

from collections import OrderedDict

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

from .._types import NAME_HELP, positive_int, three_state

helps["manifest"] = """
type: group
short-summary: Manage artifact manifests in Azure Container Registries.
long-summary: >
    Every command takes a fully qualified id as its positional argument (myregistry.azurecr.io/hello-world:latest,
    localhost:5000/hello-world@sha256:...) or '-r REGISTRY -n NAME'. Works with any OCI registry; 'update-metadata'
    needs Azure Container Registry's metadata API.
"""

helps["manifest list"] = """
type: command
short-summary: List the manifests in a repository.
long-summary: >
    Reads every page of the repository's manifest list (or the first --top), then each manifest. On a plain
    OCI registry only tagged manifests can be listed.
examples:
  - name: List the manifests of the repository 'hello-world'.
    text: acr manifest list -r myregistry -n hello-world
  - name: The same, with a fully qualified repository id.
    text: acr manifest list myregistry.azurecr.io/hello-world
  - name: The subjects of the artifacts in a repository, as a table.
    text: acr manifest list -r myregistry -n hello-world -o table
"""

helps["manifest list-metadata"] = """
type: command
short-summary: List the metadata of the manifests in a repository.
examples:
  - name: List the metadata of the manifests in the repository 'hello-world'.
    text: acr manifest list-metadata -r myregistry -n hello-world
  - name: The same, with a fully qualified repository id.
    text: acr manifest list-metadata myregistry.azurecr.io/hello-world
  - name: List the untagged manifests of the repository 'hello-world'.
    text: acr manifest list-metadata -r myregistry -n hello-world --query "[?tags==null]"
  - name: The 10 most recently updated manifests.
    text: acr manifest list-metadata -r myregistry -n hello-world --top 10 --orderby time_desc
"""

helps["manifest show"] = """
type: command
short-summary: Get a manifest in an Azure Container Registry.
long-summary: Exits with code 3 when the manifest does not exist. --raw prints the exact bytes stored.
examples:
  - name: Get the manifest of the artifact 'hello-world:latest'.
    text: acr manifest show -r myregistry -n hello-world:latest
  - name: Get the manifest of the artifact 'hello-world@sha256:abc123'.
    text: acr manifest show -r myregistry -n hello-world@sha256:abc123
  - name: Get the manifest with a fully qualified id.
    text: acr manifest show myregistry.azurecr.io/hello-world:latest
  - name: Check the stored bytes against the digest.
    text: acr manifest show myregistry.azurecr.io/hello-world@sha256:abc123 --raw | sha256sum
"""

helps["manifest show-metadata"] = """
type: command
short-summary: Get the metadata of an artifact in an Azure Container Registry.
long-summary: Exits with code 3 when the tag or manifest does not exist.
examples:
  - name: Get the metadata of the tag 'hello-world:latest'.
    text: acr manifest show-metadata -r myregistry -n hello-world:latest
  - name: Get the metadata of the manifest 'hello-world@sha256:abc123'.
    text: acr manifest show-metadata myregistry.azurecr.io/hello-world@sha256:abc123
"""

helps["manifest update-metadata"] = """
type: command
short-summary: Update the manifest metadata of an artifact in an Azure Container Registry.
long-summary: >
    Only the flags given are changed; with none it shows the metadata. Needs Azure Container Registry's
    metadata API (/acr/v1).
examples:
  - name: Lock the artifact 'hello-world:latest' against writes and deletes.
    text: acr manifest update-metadata -r myregistry -n hello-world:latest --write-enabled false
  - name: Hide the manifest 'hello-world@sha256:abc123' from listings.
    text: acr manifest update-metadata myregistry.azurecr.io/hello-world@sha256:abc123 --list-enabled false
"""

helps["manifest delete"] = """
type: command
short-summary: Delete a manifest in an Azure Container Registry.
long-summary: >
    Asks first unless --yes is given (and refuses to run without a terminal). --dry-run prints, as JSON,
    the manifest and the tags that would go, and deletes nothing.
examples:
  - name: Delete the manifest of the artifact 'hello-world:latest'.
    text: acr manifest delete -r myregistry -n hello-world:latest
  - name: Delete the manifest 'hello-world@sha256:abc123' without a prompt.
    text: acr manifest delete myregistry.azurecr.io/hello-world@sha256:abc123 --yes
  - name: See what would be deleted.
    text: acr manifest delete -r myregistry -n hello-world:latest --dry-run
"""

helps["manifest list-referrers"] = """
type: command
short-summary: List the artifacts that refer to a manifest (signatures, SBOMs, attestations).
long-summary: >
    Uses the OCI referrers API, and the referrers tag schema (sha256-<hex>) on registries without it.
    --recursive walks the whole tree of referrers; --artifact-type filters the first level only, as az.
examples:
  - name: List the referrers of the artifact 'hello-world:latest'.
    text: acr manifest list-referrers -r myregistry -n hello-world:latest
  - name: List the Notary signatures of 'hello-world@sha256:abc123'.
    text: acr manifest list-referrers myregistry.azurecr.io/hello-world@sha256:abc123 --artifact-type application/vnd.cncf.notary.signature
  - name: List all referrers, recursively, as a table.
    text: acr manifest list-referrers -r myregistry -n hello-world:latest --recursive -o table
"""


def _cell(value) -> str:
    return " " if value in (None, "") else str(value)


def manifest_output_format(result):
    """az's table for ``manifest list``: MediaType, ArtifactType, SubjectDigest."""
    return [OrderedDict([("MediaType", _cell(item.get("mediaType"))),
                         ("ArtifactType", _cell(item.get("artifactType"))),
                         ("SubjectDigest", _cell((item.get("subject") or {}).get("digest")))])
            for item in result or [] if isinstance(item, dict)]


def list_referrers_output_format(result):
    """az's table for ``manifest list-referrers``: Digest, ArtifactType, MediaType, Size."""
    return [OrderedDict([("Digest", _cell(item.get("digest"))), ("ArtifactType", _cell(item.get("artifactType"))),
                         ("MediaType", _cell(item.get("mediaType"))), ("Size", _cell(item.get("size")))])
            for item in (result or {}).get("manifests") or [] if isinstance(item, dict)]


PREVIEW_MESSAGE = "{} is in preview and under development. Reference and support levels: https://aka.ms/CLI_refstatus"


def load_commands(loader) -> None:
    from knack.util import status_tag_messages

    status_tag_messages["preview"] = PREVIEW_MESSAGE  # az's wording (azure-cli-core sets the same text)
    with CommandGroup(loader, "manifest", "azext_acr.commands.manifest#{}", is_preview=True) as g:
        # az's group is 'acr manifest', so its preview warning names it that way.
        g.group_kwargs["preview_info"].target = "acr manifest"
        g.command("list", "acr_manifest_list", table_transformer=manifest_output_format)
        g.command("list-metadata", "acr_manifest_list_metadata")
        g.command("show", "acr_manifest_show")
        g.command("show-metadata", "acr_manifest_show_metadata")
        g.command("update-metadata", "acr_manifest_update_metadata")
        g.command("delete", "acr_manifest_delete")
        g.command("list-referrers", "acr_manifest_list_referrers", table_transformer=list_referrers_output_format)


MANIFEST_COMMANDS = ("show", "show-metadata", "update-metadata", "delete", "list-referrers")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "manifest") as c:
        c.argument("registry_name", options_list=["--registry", "-r"], configured_default="acr",
                   help=NAME_HELP + " Required unless a fully qualified id is given.")
        c.argument("top", options_list=["--top"], type=positive_int,
                   help="Limit the number of items in the results.")
        c.argument("orderby", options_list=["--orderby"], choices=["time_asc", "time_desc"], type=str.lower,
                   help="Order the items in the results. Default to alphabetical order of names.")
        c.argument("delete_enabled", options_list=["--delete-enabled"], arg_type=three_state,
                   help="Indicate whether delete operation is allowed.")
        c.argument("list_enabled", options_list=["--list-enabled"], arg_type=three_state,
                   help="Indicate whether this item shows in list operation results.")
        c.argument("read_enabled", options_list=["--read-enabled"], arg_type=three_state,
                   help="Indicate whether read operation is allowed.")
        c.argument("write_enabled", options_list=["--write-enabled"], arg_type=three_state,
                   help="Indicate whether write or delete operation is allowed.")
        c.argument("raw_output", options_list=["--raw"], action="store_true",
                   help="Output the raw manifest text with no formatting.")
        c.argument("artifact_type", options_list=["--artifact-type"], help="Filter referrers based on artifact type.")
        c.argument("recursive", options_list=["--recursive"], action="store_true",
                   help="Recursively include referrer artifacts.")
        c.argument("dry_run", options_list=["--dry-run"], action="store_true",
                   help="Print, as JSON, what would be deleted; ask nothing and delete nothing.")
    for command in ("list", "list-metadata"):
        with ArgumentsContext(loader, f"manifest {command}") as c:
            c.positional("repo_id", nargs="*", metavar="REPO_ID",
                         help="A fully qualified repository specifier such as "
                              "'myregistry.azurecr.io/hello-world'.")
            c.argument("repository", options_list=["--name", "-n"], help="The name of the repository.")
    for command in MANIFEST_COMMANDS:
        with ArgumentsContext(loader, f"manifest {command}") as c:
            c.positional("manifest_id", nargs="*", metavar="MANIFEST_ID",
                         help="A fully qualified manifest specifier such as 'myregistry.azurecr.io/hello-world:latest' "
                              "or 'myregistry.azurecr.io/hello-world@sha256:abc123'.")
            c.argument("manifest_spec", options_list=["--name", "-n"],
                       help="The name of the artifact. May include a tag in the format 'name:tag' or digest in the "
                            "format 'name@digest'.")
