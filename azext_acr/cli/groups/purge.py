"""``acr purge``: bulk cleanup with acr-cli's flags."""

from __future__ import annotations

from knack.arguments import ArgumentsContext
from knack.commands import CommandGroup
from knack.help_files import helps

from .._types import positive_int

helps["purge"] = """
type: command
short-summary: Delete tags and untagged manifests that match filters, safely and in parallel.
long-summary: >
    Takes Azure/acr-cli's flags. Each --filter is <repository regex>:<tag regex>; both must match the whole
    name. Matching tags older than --ago, beyond the --keep newest, and not matching an --exclude, are untagged;
    with --untagged the manifests left without tags are deleted too, except any manifest a remaining tag still
    reaches (children of a tagged index, signatures and other referrers of a kept manifest). Locked items are
    skipped unless --include-locked. A JSON report goes to stdout, progress to stderr; if any deletion fails the
    rest continue and the exit code is 1.
examples:
  - name: See what would go, without deleting anything.
    text: acr purge -n myregistry --filter 'hello-world:.*' --ago 30d --dry-run
  - name: Keep the 5 newest tags of every repository under 'team/', delete the rest and their untagged manifests.
    text: acr purge -n myregistry --filter 'team/.*:.*' --keep 5 --untagged
  - name: Delete only untagged manifests older than a week, everywhere.
    text: acr purge -n myregistry --filter '.*:.*' --untagged-only --ago 7d
  - name: Purge old dev builds but never release tags.
    text: acr purge -n myregistry --filter 'app:.*' --exclude 'app:v[0-9.]+' --ago 14d
"""


def load_commands(loader) -> None:
    with CommandGroup(loader, "", "azext_acr.commands.purge#{}") as g:
        g.command("purge", "acr_purge")


def load_arguments(loader) -> None:
    with ArgumentsContext(loader, "purge") as c:
        c.argument("registry_name", options_list=["--name", "-n"], required=False,
                   help="The registry name or login server.")
        c.argument("registry", options_list=["--registry", "-r"], help="Same as --name (acr-cli's spelling).")
        c.argument("filters", options_list=["--filter"], action="append", required=True,
                   help="<repository regex>:<tag regex>. Repeatable.")
        c.argument("excludes", options_list=["--exclude"], action="append",
                   help="<repository regex>:<tag regex> of tags never to delete. Repeatable.")
        c.argument("ago", options_list=["--ago"],
                   help="Only delete items last updated longer ago than this: 30d, 12h, 1d6h, 90m. Default 0d (any age).")
        c.argument("keep", options_list=["--keep"], type=positive_int,
                   help="Keep this many of the newest matching tags in each repository.")
        c.argument("untagged", options_list=["--untagged"], action="store_true",
                   help="Also delete manifests that have no tags left.")
        c.argument("untagged_only", options_list=["--untagged-only"], action="store_true",
                   help="Delete only untagged manifests; leave tags alone.")
        c.argument("include_locked", options_list=["--include-locked"], action="store_true",
                   help="Unlock and delete locked tags and manifests too.")
        c.argument("dry_run", options_list=["--dry-run"], action="store_true",
                   help="List what would be deleted; delete nothing.")
        c.argument("concurrency", options_list=["--concurrency"], type=positive_int,
                   help="Parallel deletes (default 4, at most 32).")
