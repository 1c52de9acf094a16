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
