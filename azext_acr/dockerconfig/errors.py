"""The one exception type this package raises for bad input or a broken environment.

Callers (the CLI) print ``str(error)`` as a single line and exit non-zero, so every message names the
file or program involved and says how to fix it; tracebacks are reserved for real bugs.
"""

from __future__ import annotations


class DockerConfigError(Exception):
    """A Docker config file or credential helper problem the user can fix; the message is one line."""


class HelperNotFoundError(DockerConfigError):
    """The ``docker-credential-<name>`` program is not on PATH.

    A separate type so that callers which know *why* the helper was chosen (``credsStore`` or a
    ``credHelpers`` entry in a particular file) can replace the message with one that names that entry.
    """

    def __init__(self, program: str) -> None:
        self.program = program
        super().__init__(f"Docker credential helper '{program}' was not found on PATH: install it.")
