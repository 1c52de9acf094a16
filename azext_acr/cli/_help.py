"""Help texts and examples for every command group and command (az's _help.py style)."""

from knack.help_files import helps

helps[""] = """
type: group
short-summary: Work with Azure Container Registries (and any OCI registry) without Docker.
"""

helps["login"] = """
type: command
short-summary: Log in to a container registry by writing its credentials to the Docker config.
long-summary: >
    Signs in to Azure AD (environment service principal, workload identity, ...), exchanges the token for an
    ACR refresh token and stores it in config.json (DOCKER_CONFIG honoured) or the configured credential
    helper. Docker does not need to be installed.
examples:
  - name: Log in to an Azure Container Registry.
    text: acr login -n myregistry
  - name: Print a refresh token instead of writing the Docker config.
    text: acr login -n myregistry --expose-token
  - name: Log in with a username and a password read from standard input.
    text: echo $PASSWORD | acr login -n myregistry -u myuser --password-stdin
"""

helps["logout"] = """
type: command
short-summary: Remove a registry's credentials from the Docker config (or its credential helper).
examples:
  - name: Log out of a registry.
    text: acr logout -n myregistry
"""

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

helps["artifact"] = """
type: group
short-summary: Push and pull OCI artifacts (files), the ORAS workflow.
"""

helps["artifact push"] = """
type: command
short-summary: Push files to a registry as an OCI artifact.
long-summary: >
    Arguments follow 'oras push': each file is path[:mediaType] (default application/vnd.oci.image.layer.v1.tar)
    and its file name becomes its title. Per-file status goes to stderr; the result ('Pushed', 'Digest')
    to stdout, or a JSON object with --format json (or -o json).
examples:
  - name: Push a text file with a custom media type.
    text: acr artifact push myregistry.azurecr.io/samples/artifact:1.0 ./artifact.txt:application/vnd.unknown.layer.v1+txt
  - name: Push with an explicit config and two tags.
    text: acr artifact push myregistry.azurecr.io/samples/artifact:1.0,latest --manifest-config /dev/null:application/vnd.unknown.config.v1+json ./artifact.txt
"""

helps["artifact pull"] = """
type: command
short-summary: Pull the files of an OCI artifact.
long-summary: >
    Arguments follow 'oras pull': -o/--output names the directory. Each blob's digest is checked before the
    file is renamed into place; titles that would escape the directory are refused, and an existing file with
    different content is only replaced with --overwrite.
examples:
  - name: Pull the text layers of an artifact into the current directory.
    text: acr artifact pull myregistry.azurecr.io/samples/artifact:1.0 --media-type application/vnd.unknown.layer.v1+txt
  - name: Pull everything into ./out.
    text: acr artifact pull myregistry.azurecr.io/samples/artifact:1.0 -o out
"""
