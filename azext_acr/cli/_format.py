"""Output renderers beyond Knack's: oras' text for artifact push, pull, attach and discover."""

from __future__ import annotations


def oras_text(command: str, result: dict) -> str:
    if command == "push":
        lines = [f"Pushed {reference}" for reference in result.get("references") or [result.get("reference")]]
        if result.get("artifactType"):
            lines.append(f"ArtifactType: {result['artifactType']}")
        lines.append(f"Digest: {result.get('digest')}")
        return "\n".join(lines)
    if command == "attach":
        return f"Attached to {result.get('subject')}\nDigest: {result.get('digest')}"
    if command == "discover":
        return discover_tree(result)
    if command.endswith("-table"):
        return referrers_table(result) if command.startswith("discover") else oras_text(command[:-6], result)
    return f"Pulled {result.get('reference')}\nDigest: {result.get('digest')}"


def discover_tree(result: dict) -> str:
    """oras discover's tree: the subject, its referrers grouped by artifact type, then their referrers."""
    lines = [str(result.get("reference"))]
    _tree(result.get("manifests") or [], "", lines)
    return "\n".join(lines)


def _tree(nodes: list[dict], prefix: str, lines: list[str]) -> None:
    groups: dict[str, list[dict]] = {}
    for node in nodes:
        groups.setdefault(node.get("artifactType") or node.get("mediaType") or "", []).append(node)
    for group_index, (artifact_type, members) in enumerate(groups.items()):
        last_group = group_index == len(groups) - 1
        lines.append(f"{prefix}{'└── ' if last_group else '├── '}{artifact_type}")
        group_prefix = prefix + ("    " if last_group else "│   ")
        for index, node in enumerate(members):
            last = index == len(members) - 1
            lines.append(f"{group_prefix}{'└── ' if last else '├── '}{node.get('digest')}")
            _tree(node.get("manifests") or [], group_prefix + ("    " if last else "│   "), lines)


def referrers_table(result: dict) -> str:
    """oras discover --format table: the direct referrers, one row each."""
    from tabulate import tabulate

    rows = [(node.get("digest"), node.get("artifactType") or node.get("mediaType") or "", node.get("size"))
            for node in result.get("manifests") or []]
    header = f"Discovered {len(rows)} artifact{'s' if len(rows) != 1 else ''} referencing {result.get('reference')}"
    return header + "\n" + tabulate(rows, headers=["Digest", "Artifact Type", "Size"], tablefmt="plain")
