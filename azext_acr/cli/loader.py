"""The command table: which function serves which command. Modules are imported only when used.

Each command group lives in ``cli/groups/<group>.py`` with its table, arguments and help.
"""

from __future__ import annotations

from importlib import import_module

from knack.commands import CLICommandsLoader

SHOW_COMMANDS = {"repository show", "manifest show", "manifest show-metadata"}


def _groups():
    from .groups import GROUPS

    return [import_module(f"{__package__}.groups.{name}") for name in GROUPS]


class AcrCommandsLoader(CLICommandsLoader):
    def load_command_table(self, args):
        for group in _groups():
            group.load_commands(self)
        return super().load_command_table(args)

    def load_arguments(self, command):
        for group in _groups():
            group.load_arguments(self)
        super().load_arguments(command)
