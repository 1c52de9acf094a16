"""``acr repository``: list, show, show-tags, show-manifests (deprecated), update, delete, untag."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

from .._types import positive_int, three_state

PLAIN_REGISTRY_NOTE = ("On a registry without ACR's metadata API (/acr/v1), such as Debian's docker-registry, "
                       "this works through the OCI API (/v2) and leaves out what only ACR knows.")

helps["repository"] = """
type: group
short-summary: Manage repositories (image names) for Azure Container Registries.
long-summary: >
    Works with Azure Container Registry (and acr-emulator) through its metadata API, and with any
    OCI registry through the distribution API (/v2): there, fields only ACR knows (times, sizes,
    locks) are left out and 'update' is not available.
"""

helps["repository list"] = """
type: command
short-summary: List repositories in an Azure Container Registry.
long-summary: Every page of the catalog is read (or the first --top names); a failed page fails the command.
examples:
  - name: List repositories in a given Azure Container Registry.
    text: acr repository list -n myregistry
  - name: List the first 10 repositories, one per line.
    text: acr repository list -n myregistry --top 10 -o tsv
  - name: List the repositories of a local docker-registry over plain http.
    text: ACR_PLAIN_HTTP=1 acr repository list -n localhost:5000
"""

helps["repository show"] = """
type: command
short-summary: Get the attributes of a repository or image in an Azure Container Registry.
long-summary: Exits with code 3 when the repository, tag or manifest does not exist.
examples:
  - name: Get the attributes of the repository 'hello-world'.
    text: acr repository show -n myregistry --repository hello-world
  - name: Get the attributes of the image referenced by tag 'hello-world:latest'.
    text: acr repository show -n myregistry --image hello-world:latest
  - name: Get the attributes of the image referenced by digest 'hello-world@sha256:abc123'.
    text: acr repository show -n myregistry --image hello-world@sha256:abc123
  - name: Get the digest of an image, for scripts.
    text: acr repository show -n myregistry --image hello-world:latest --query digest -o tsv
"""

helps["repository show-tags"] = """
type: command
short-summary: Show tags for a repository in an Azure Container Registry.
long-summary: >
    Every page is read (or the first --top tags). On a registry without ACR's metadata API, --detail gives
    each tag's digest and --orderby is ignored with a warning.
examples:
  - name: Show tags of a repository in an Azure Container Registry.
    text: acr repository show-tags -n myregistry --repository MyRepository
  - name: Show the detail information of tags of a repository in an Azure Container Registry.
    text: acr repository show-tags -n myregistry --repository MyRepository --detail
  - name: Show the detail information of the latest 10 tags of a repository in an Azure Container Registry.
    text: acr repository show-tags -n myregistry --repository MyRepository --top 10 --orderby time_desc --detail
"""

helps["repository show-manifests"] = """
type: command
short-summary: Show manifests of a repository in an Azure Container Registry.
long-summary: Deprecated, as in az; use 'acr manifest list-metadata'.
examples:
  - name: Show manifests of a repository in an Azure Container Registry.
    text: acr repository show-manifests -n myregistry --repository MyRepository
  - name: Show the latest 10 manifests ordered by time, with details.
    text: acr repository show-manifests -n myregistry --repository MyRepository --top 10 --orderby time_desc --detail
"""

helps["repository update"] = """
type: command
short-summary: Update the attributes of a repository or image in an Azure Container Registry.
long-summary: >
    Only the flags given are changed. With no flag it shows the attributes, as az does. Needs ACR's
    metadata API: on a plain OCI registry it fails with a message saying so.
examples:
  - name: Update the attributes of the repository 'hello-world' to disable write operation.
    text: acr repository update -n myregistry --repository hello-world --write-enabled false
  - name: Update the attributes of the image referenced by tag 'hello-world:latest' to disable write operation.
    text: acr repository update -n myregistry --image hello-world:latest --write-enabled false
  - name: Update the attributes of the image referenced by digest 'hello-world@sha256:abc123' to disable write operation.
    text: acr repository update -n myregistry --image hello-world@sha256:abc123 --write-enabled false
"""

helps["repository delete"] = """
type: command
short-summary: Delete a repository or image in an Azure Container Registry.
long-summary: >
    This command deletes all associated layer data that are not referenced by any other manifest in the
    container registry. Deleting an image deletes its manifest and every tag that points at it; the
    prompt lists those tags (with --yes they are printed as a warning). --dry-run prints, as JSON, what
    would be deleted, and deletes nothing.
examples:
  - name: Delete an image manifest by tag. This deletes the manifest referenced by 'hello-world:latest', all other tags referencing the manifest, and any associated layer data.
    text: acr repository delete -n myregistry --image hello-world:latest
  - name: Delete an image manifest by digest. This deletes the manifest referenced by 'hello-world@sha256:abc123', all tags referencing the manifest, and any associated layer data.
    text: acr repository delete -n myregistry --image hello-world@sha256:abc123
  - name: Delete a repository. This deletes all manifests and tags under 'hello-world'.
    text: acr repository delete -n myregistry --repository hello-world
  - name: See what deleting an image would remove, without deleting anything.
    text: acr repository delete -n myregistry --image hello-world:latest --dry-run
"""

helps["repository untag"] = """
type: command
short-summary: Untag an image in an Azure Container Registry.
long-summary: >
    This command does not delete the manifest referenced by the tag or any associated layer data.
    A plain OCI registry that cannot delete a tag alone (distribution 2.x) is reported as such.
examples:
  - name: Untag an image from a repository.
    text: acr repository untag -n myregistry --image hello-world:latest
  - name: Check that the tag exists and see what would be removed.
    text: acr repository untag -n myregistry --image hello-world:latest --dry-run
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "repository", "azext_acr.commands.repository#{}") as g:
        g.command("list", "acr_repository_list")
        g.command("show", "acr_repository_show")
        g.command("show-tags", "acr_repository_show_tags")
        g.command("show-manifests", "acr_repository_show_manifests",
                  deprecate_info=g.deprecate(redirect="acr manifest list-metadata", hide=True))
        g.command("update", "acr_repository_update")
        g.command("delete", "acr_repository_delete")
        g.command("untag", "acr_repository_untag")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "repository") as c:
        c.argument("repository", options_list=["--repository"], help="The name of the repository.")
        c.argument("image", options_list=["--image", "-t"],
                   help="The name of the image. May include a tag in the format 'name:tag' or digest in the "
                        "format 'name@digest'.")
        c.argument("top", options_list=["--top"], type=positive_int,
                   help="Limit the number of items in the results.")
        c.argument("orderby", options_list=["--orderby"], choices=["time_asc", "time_desc"],
                   type=str.lower, help="Order the items in the results. Default to alphabetical order of names.")
        c.argument("detail", options_list=["--detail"], action="store_true", help="Show detailed information.")
        c.argument("delete_enabled", options_list=["--delete-enabled"], arg_type=three_state,
                   help="Indicates whether delete operation is allowed.")
        c.argument("list_enabled", options_list=["--list-enabled"], arg_type=three_state,
                   help="Indicates whether this item shows in list operation results.")
        c.argument("read_enabled", options_list=["--read-enabled"], arg_type=three_state,
                   help="Indicates whether read operation is allowed.")
        c.argument("write_enabled", options_list=["--write-enabled"], arg_type=three_state,
                   help="Indicates whether write or delete operation is allowed.")
        c.argument("dry_run", options_list=["--dry-run"], action="store_true",
                   help="Print, as JSON, what would be deleted; ask nothing and delete nothing.")
        c.argument("resource_group_name", options_list=["--resource-group", "-g"],
                   help="Accepted for compatibility with az; not used.",
                   deprecate_info=c.deprecate(target="resource_group_name", hide=True))

    with ArgumentsContext(loader, "repository untag") as c:
        c.argument("image", options_list=["--image", "-t"], required=True,
                   help="The name of the image. May include a tag in the format 'name:tag'.")
    for command in ("repository show-tags", "repository show-manifests"):
        with ArgumentsContext(loader, command) as c:
            c.argument("repository", options_list=["--repository"], required=True,
                       help="The name of the repository.")
