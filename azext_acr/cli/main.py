"""The ``acr`` entry point: a Knack CLI that maps library errors to az's messages and exit codes."""

from __future__ import annotations

import sys

from knack import CLI
from knack.log import CLILogging, get_logger

from .. import __version__
from .loader import SHOW_COMMANDS, AcrCommandsLoader

logger = get_logger(__name__)

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3
ORAS_COMMANDS = ("push", "pull", "attach", "discover")
ORAS_TEXT_FORMATS = ("text", "tree", "table")
# Options of artifact push/pull that take a value: needed to tell files from option values when
# oras-style positionals come after options (argparse cannot interleave them).
VALUE_OPTIONS = {"--manifest-config", "--config", "--artifact-type", "--annotation", "-a", "--annotation-file",
                 "--concurrency", "--username", "-u", "--password", "-p", "--output", "-o", "--query", "--format",
                 "--media-type", "--output-directory", "--depth"}


class AcrLogging(CLILogging):
    """Knack's logging, plus a filter on every handler that redacts secrets."""

    def configure(self, args):
        super().configure(args)
        from ..registry.redact import install_redaction

        install_redaction()


class AcrCLI(CLI):
    def __init__(self, **kwargs):
        from ..configdir import config_dir

        super().__init__(cli_name="acr", config_dir=str(config_dir()), config_env_var_prefix="ACR",
                         commands_loader_cls=AcrCommandsLoader, logging_cls=AcrLogging, **kwargs)
        self._oras_text: str | None = None

    def get_cli_version(self):
        return __version__

    def invoke(self, args, initial_invocation_data=None, out_file=None):
        args = self._oras_arguments(list(args))
        exit_code = super().invoke(args, initial_invocation_data, out_file)
        if exit_code == 0 and self._oras_text and self.result is not None and self.result.result:
            from ._format import oras_text

            print(oras_text(self._oras_text, self.result.result), file=out_file or self.out_file)
        return exit_code

    def _oras_arguments(self, args: list[str]) -> list[str]:
        """oras' conventions for ``artifact push|pull``: ``-o DIR`` is pull's output directory,
        ``--format json`` picks JSON, and without it the result prints as oras' text lines."""
        if len(args) < 2 or args[0] != "artifact" or args[1] not in ORAS_COMMANDS:
            return args
        rewritten: list[str] = []
        explicit_format = False
        text_format = ""
        index = 0
        while index < len(args):
            arg = args[index]
            if args[1] == "pull" and arg in ("-o", "--output"):
                rewritten.append("--output-directory")
            elif arg == "--format" and index + 1 < len(args) and args[index + 1] in ORAS_TEXT_FORMATS:
                text_format = args[index + 1]  # oras' own text layouts (tree, table): rendered in _format
                index += 1
            elif arg == "--format":
                rewritten.append("--output")
                explicit_format = True
            elif arg in ("-o", "--output") or arg.startswith(("--output=", "-o=")):
                rewritten.append(arg)
                explicit_format = True
            else:
                rewritten.append(arg)
            index += 1
        if not explicit_format and not any(a in ("-h", "--help") for a in args):
            rewritten += ["--output", "none"]
            self._oras_text = f"{args[1]}-{text_format}" if text_format == "table" else args[1]
        return _positionals_first(rewritten)

    def _print_partial_result(self, result) -> None:
        """A command that failed in part still prints what it did, in the format the user asked for."""
        from knack.util import CommandResultItem

        output_type = self.invocation.data.get("output", "json") if self.invocation else "json"
        self.output.out(CommandResultItem(result), formatter=self.output.get_formatter(output_type),
                        out_file=self.out_file)

    def exception_handler(self, ex):  # noqa: C901 - one flat mapping table
        from knack.util import CLIError

        from ..commands.purge import PartialFailure
        from ..dockerconfig import DockerConfigError
        from ..identity.errors import IdentityError
        from ..registry.errors import NotFoundError, RegistryError

        command = (self.invocation.data.get("command") if self.invocation else None) or ""
        if isinstance(ex, PartialFailure):
            self._print_partial_result(ex.result)
            logger.error(str(ex))
            return EXIT_ERROR
        if isinstance(ex, RegistryError):
            logger.error(str(ex))
            if isinstance(ex, NotFoundError) and command in SHOW_COMMANDS:
                return EXIT_NOT_FOUND
            return EXIT_ERROR
        if isinstance(ex, CLIError | DockerConfigError | IdentityError):
            logger.error(str(ex))
            return EXIT_ERROR
        if isinstance(ex, OSError):
            logger.error("%s%s", ex.strerror or type(ex).__name__, f": {ex.filename}" if ex.filename else "")
            return EXIT_ERROR
        logger.error("Unexpected error: %s: %s", type(ex).__name__, str(ex).splitlines()[0] if str(ex) else "")
        logger.debug("Traceback:", exc_info=ex)
        return EXIT_ERROR


def _positionals_first(args: list[str]) -> list[str]:
    """``artifact push REF --config X a.txt b.txt`` → ``artifact push REF a.txt b.txt --config X``."""
    head, rest = args[:2], args[2:]
    positionals: list[str] = []
    options: list[str] = []
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg == "--":
            positionals += rest[index + 1:]
            break
        if arg.startswith("-") and arg != "-":
            options.append(arg)
            if arg in VALUE_OPTIONS and index + 1 < len(rest):
                options.append(rest[index + 1])
                index += 1
        else:
            positionals.append(arg)
        index += 1
    return head + positionals + options


def main(argv: list[str] | None = None) -> int:
    cli = AcrCLI()
    try:
        code = cli.invoke(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    return code


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
