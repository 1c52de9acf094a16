"""The command table: which function serves which command. Modules are imported only when used."""

from __future__ import annotations

from knack.commands import CLICommandsLoader, CommandGroup

SHOW_COMMANDS = {"repository show", "manifest show", "manifest show-metadata"}


class AcrCommandsLoader(CLICommandsLoader):
    def load_command_table(self, args):
        from . import _help  # noqa: F401 - registers help texts

        with CommandGroup(self, "", "azext_acr.commands.login#{}") as g:
            g.command("login", "acr_login")
            g.command("logout", "acr_logout")
        with CommandGroup(self, "repository", "azext_acr.commands.repository#{}") as g:
            g.command("list", "acr_repository_list")
            g.command("show", "acr_repository_show")
            g.command("show-tags", "acr_repository_show_tags")
            g.command("update", "acr_repository_update")
            g.command("delete", "acr_repository_delete")
            g.command("untag", "acr_repository_untag")
        with CommandGroup(self, "artifact", "azext_acr.commands.artifact#{}") as g:
            g.command("push", "acr_artifact_push")
            g.command("pull", "acr_artifact_pull")
        return super().load_command_table(args)

    def load_arguments(self, command):
        from ._params import load_arguments

        load_arguments(self, command)
        super().load_arguments(command)
