"""One module per command group: its command table, its arguments and its help, side by side.

Each module defines ``load_commands(loader)``, ``load_arguments(loader)`` and registers its help
texts in ``knack.help_files.helps`` when imported. ``GROUPS`` is the order they load in.
"""

GROUPS = ("common", "login", "repository", "manifest", "artifact", "purge", "account")
