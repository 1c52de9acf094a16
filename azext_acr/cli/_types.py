"""Argument types shared by several command groups."""

from __future__ import annotations

from knack.arguments import CLIArgumentType


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
