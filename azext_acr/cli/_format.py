"""Output renderers beyond Knack's: oras' text lines for artifact push and pull."""

from __future__ import annotations


def oras_text(command: str, result: dict) -> str:
    if command == "push":
        lines = [f"Pushed {reference}" for reference in result.get("references") or [result.get("reference")]]
        if result.get("artifactType"):
            lines.append(f"ArtifactType: {result['artifactType']}")
        lines.append(f"Digest: {result.get('digest')}")
        return "\n".join(lines)
    return f"Pulled {result.get('reference')}\nDigest: {result.get('digest')}"
