"""Every parameter, declared once per argument context, with its help beside it (az's _params.py)."""

from __future__ import annotations

from knack.arguments import ArgumentsContext, CLIArgumentType


def true_false(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(value)
    return lowered == "true"


def positive_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


three_state = CLIArgumentType(nargs="?", const=True, type=true_false, choices=[True, False])

NAME_HELP = ("The name of the container registry, or its login server (myregistry.azurecr.io, "
             "localhost:5000). A bare name gets the cloud suffix (.azurecr.io, or ACR_LOGIN_SERVER_SUFFIX).")


def load_arguments(loader, command: str) -> None:  # noqa: ARG001 - knack calls it per command
    with ArgumentsContext(loader, "") as c:
        c.argument("registry_name", options_list=["--name", "-n"], help=NAME_HELP, configured_default="acr")
        c.argument("suffix", options_list=["--suffix"],
                   help="The tenant suffix in the registry login server, e.g. 'contoso' for "
                        "myregistry-contoso.azurecr.io.")
        c.argument("username", options_list=["--username", "-u"],
                   help="The username used to log into a container registry.")
        c.argument("password", options_list=["--password", "-p"],
                   help="The password used to log into a container registry.")
        c.argument("password_stdin", options_list=["--password-stdin"], action="store_true",
                   help="Read the password from standard input.")
        c.argument("resource_group_name", options_list=["--resource-group", "-g"],
                   help="Accepted for compatibility with az; not used.")
        c.argument("yes", options_list=["--yes", "-y"], action="store_true", help="Do not prompt for confirmation.")

    with ArgumentsContext(loader, "login") as c:
        c.argument("expose_token", options_list=["--expose-token", "-t"], action="store_true",
                   help="Print the ACR refresh token instead of writing it to the Docker config.")

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

    with ArgumentsContext(loader, "artifact push") as c:
        c.positional("target", nargs="+", metavar="REFERENCE [FILE[:MEDIA_TYPE] ...]",
                     help="The artifact reference, <registry>/<repository>[:tag[,tag...]], then the files to push, "
                          "each as path[:mediaType].")
    with ArgumentsContext(loader, "artifact pull") as c:
        c.positional("target", help="The artifact reference: <registry>/<repository>[:tag|@digest].")
    with ArgumentsContext(loader, "artifact") as c:
        c.argument("username", options_list=["--username", "-u"], help="Registry username.")
        c.argument("password", options_list=["--password", "-p"], help="Registry password or identity token.")
    with ArgumentsContext(loader, "artifact push") as c:
        c.argument("manifest_config", options_list=["--manifest-config", "--config"],
                   help="The manifest's config file, as path[:mediaType].")
        c.argument("artifact_type", options_list=["--artifact-type"], help="The artifact type of the manifest.")
        c.argument("annotation", options_list=["--annotation", "-a"], action="append",
                   help="A manifest annotation, key=value. Repeatable.")
        c.argument("annotation_file", options_list=["--annotation-file"],
                   help="A JSON file of annotations: {\"$manifest\": {...}, \"<file title>\": {...}}.")
        c.argument("concurrency", options_list=["--concurrency"], type=positive_int,
                   help="How many blobs to upload at once (default 3, at most 32).")
    with ArgumentsContext(loader, "artifact pull") as c:
        c.argument("media_type", options_list=["--media-type"], action="append",
                   help="Pull only layers of this media type. Repeatable.")
        c.argument("output_directory", options_list=["--output-directory"],
                   help="The directory to write files to (oras' -o/--output also works). Default: current.")
        c.argument("keep_old_files", options_list=["--keep-old-files", "-k"], action="store_true",
                   help="Keep files that already exist instead of overwriting them.")
        c.argument("overwrite", options_list=["--overwrite"], action="store_true",
                   help="Replace files that exist with different content.")
