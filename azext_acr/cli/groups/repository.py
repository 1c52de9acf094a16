"""``acr repository``: list, show, show-tags, update, delete, untag."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

from .._types import positive_int, three_state

helps["repository"] = """
type: group
short-summary: Manage repositories (image names) for Azure Container Registries.
"""

helps["repository list"] = """
type: command
short-summary: List repositories in an Azure Container Registry.
examples:
  - name: List repositories in a given Azure Container Registry.
    text: acr repository list -n myregistry
"""

helps["repository show"] = """
type: command
short-summary: Get the attributes of a repository or image in an Azure Container Registry.
examples:
  - name: Get the attributes of the repository 'hello-world'.
    text: acr repository show -n myregistry --repository hello-world
  - name: Get the attributes of the image referenced by tag 'hello-world:latest'.
    text: acr repository show -n myregistry --image hello-world:latest
  - name: Get the digest of an image, for scripts.
    text: acr repository show -n myregistry --image hello-world:latest --query digest -o tsv
"""

helps["repository show-tags"] = """
type: command
short-summary: Show tags for a repository in an Azure Container Registry.
examples:
  - name: Show tags of a repository.
    text: acr repository show-tags -n myregistry --repository MyRepository
  - name: Show the 10 most recent tags with details.
    text: acr repository show-tags -n myregistry --repository MyRepository --top 10 --orderby time_desc --detail
"""

helps["repository update"] = """
type: command
short-summary: Update the attributes of a repository or image in an Azure Container Registry.
examples:
  - name: Lock a repository against writes and deletes.
    text: acr repository update -n myregistry --repository hello-world --write-enabled false
  - name: Lock an image by tag.
    text: acr repository update -n myregistry --image hello-world:latest --write-enabled false
"""

helps["repository delete"] = """
type: command
short-summary: Delete a repository or image in an Azure Container Registry.
long-summary: Deleting an image deletes its manifest and every tag that points at it.
examples:
  - name: Delete an image manifest by tag, with every tag that references it.
    text: acr repository delete -n myregistry --image hello-world:latest
  - name: Delete an image manifest by digest.
    text: acr repository delete -n myregistry --image hello-world@sha256:abc123
  - name: Delete a repository and all images in it, without a prompt.
    text: acr repository delete -n myregistry --repository hello-world --yes
"""

helps["repository untag"] = """
type: command
short-summary: Untag an image in an Azure Container Registry.
long-summary: The manifest the tag referenced, and its layers, are kept.
examples:
  - name: Remove the tag 'latest' from the repository 'hello-world'.
    text: acr repository untag -n myregistry --image hello-world:latest
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "repository", "azext_acr.commands.repository#{}") as g:
        g.command("list", "acr_repository_list")
        g.command("show", "acr_repository_show")
        g.command("show-tags", "acr_repository_show_tags")
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
                   help="Order the items in the results. Default to alphabetical order of names.")
        c.argument("detail", options_list=["--detail"], action="store_true", help="Show detailed information.")
        c.argument("delete_enabled", options_list=["--delete-enabled"], arg_type=three_state,
                   help="Indicates whether delete operation is allowed.")
        c.argument("list_enabled", options_list=["--list-enabled"], arg_type=three_state,
                   help="Indicates whether this item shows in list operation results.")
        c.argument("read_enabled", options_list=["--read-enabled"], arg_type=three_state,
                   help="Indicates whether read operation is allowed.")
        c.argument("write_enabled", options_list=["--write-enabled"], arg_type=three_state,
                   help="Indicates whether write or delete operation is allowed.")

    with ArgumentsContext(loader, "repository untag") as c:
        c.argument("image", options_list=["--image", "-t"], required=True,
                   help="The name of the image. May include a tag in the format 'name:tag'.")
    with ArgumentsContext(loader, "repository show-tags") as c:
        c.argument("repository", options_list=["--repository"], required=True, help="The name of the repository.")
