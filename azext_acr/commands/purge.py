"""``acr purge``: acr-cli's purge, run locally — filters, age, keep-N, untagged, locks, dry run."""

from __future__ import annotations

import sys

from knack.log import get_logger
from knack.util import CLIError

from ._common import open_registry

logger = get_logger(__name__)

MAX_CONCURRENCY = 32


class PartialFailure(CLIError):
    """Some deletions failed: the CLI prints ``result`` as usual, then the error, and exits 1."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


def acr_purge(filters, registry_name=None, registry=None, excludes=None, ago="0d", keep=0, untagged=False,
              untagged_only=False, include_locked=False, dry_run=False, concurrency=4, suffix=None,
              username=None, password=None):
    from ..registry import cleanup
    from ..registry.errors import NotFoundError

    name = registry_name or registry
    if not name:
        raise CLIError("the following arguments are required: --name/-n (or --registry/-r)")
    if untagged and untagged_only:
        raise CLIError("--untagged and --untagged-only cannot be combined: --untagged-only deletes only "
                       "untagged manifests, --untagged also deletes the manifests that purging tags leaves untagged.")
    if concurrency is None or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise CLIError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}.")
    try:
        options = cleanup.Options(
            filters=[cleanup.parse_filter(f) for f in filters or []],
            excludes=[cleanup.parse_filter(f) for f in excludes or []],
            ago=cleanup.parse_duration(ago), keep=keep or 0, untagged=untagged, untagged_only=untagged_only,
            include_locked=include_locked)
    except cleanup.PurgeError as err:
        raise CLIError(str(err)) from None
    if not options.filters:
        raise CLIError("At least one --filter is required, e.g. --filter 'hello-world:.*'.")

    session = open_registry(name, username, password, suffix)
    repositories = _repositories(session, options)
    report = {"registry": session.login_server, "dryRun": dry_run, "repositories": [],
              "tagsDeleted": 0, "manifestsDeleted": 0, "errors": 0}
    for repository in repositories:
        entry = {"name": repository, "tagsDeleted": [], "manifestsDeleted": [], "skippedLocked": [], "errors": []}
        try:
            tags, manifests = cleanup.snapshot(session, repository, options, concurrency)
        except NotFoundError:
            continue  # a literal filter naming a repository that does not exist: nothing to purge
        except Exception as err:  # noqa: BLE001 - one repository's failure must not stop the others
            entry["errors"].append(f"listing failed: {err}")
            report["repositories"].append(entry)
            report["errors"] += 1
            continue
        plan = cleanup.plan_repository(repository, tags, manifests, options)
        entry["skippedLocked"] = plan.skipped_locked
        if dry_run:
            entry["tagsDeleted"], entry["manifestsDeleted"] = plan.tags, plan.manifests
        else:
            deleted_tags, deleted_manifests, errors = cleanup.execute(session, plan, concurrency)
            entry["tagsDeleted"], entry["manifestsDeleted"], entry["errors"] = deleted_tags, deleted_manifests, errors
        verb = "Would delete" if dry_run else "Deleted"
        print(f"{repository}: {verb} {len(entry['tagsDeleted'])} tags, {len(entry['manifestsDeleted'])} manifests"
              + (f"; skipped {len(plan.skipped_locked)} locked" if plan.skipped_locked else "")
              + (f"; {len(entry['errors'])} errors" if entry["errors"] else ""), file=sys.stderr)
        report["repositories"].append(entry)
        report["tagsDeleted"] += len(entry["tagsDeleted"])
        report["manifestsDeleted"] += len(entry["manifestsDeleted"])
        report["errors"] += len(entry["errors"])
    if dry_run:
        logger.warning("Dry run: nothing was deleted.")
    if report["errors"]:
        raise PartialFailure(f"{report['errors']} deletions failed; see 'errors' in the report.", report)
    return report


def _repositories(session, options) -> list[str]:
    literal = [f.literal_repository for f in options.filters]
    if all(literal):
        return sorted(set(literal))
    return [name for name in session.oci.iter_catalog()
            if any(f.repository.fullmatch(name) for f in options.filters)]
