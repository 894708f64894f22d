"""The ``memman`` root group: global options, lazy command loading, error handling."""
import importlib
import sys

import click

from memman import __version__
from memman.errors import MemmanError

# command name -> "module:attribute"; modules are imported on first use only.
COMMANDS = {
    "remember": "memman.cli.remember:remember",
    "replace": "memman.cli.replace:replace",
    "recall": "memman.cli.recall:recall",
    "forget": "memman.cli.forget:forget",
    "insights": "memman.cli.insights:insights",
    "status": "memman.cli.status:status",
    "doctor": "memman.cli.doctor:doctor",
    "store": "memman.cli.store:store",
    "log": "memman.cli.log:log",
    "config": "memman.cli.config:config",
    "scheduler": "memman.cli.scheduler:scheduler",
    "graph": "memman.cli.graph:graph",
    "export": "memman.cli.export:export",
    "import": "memman.cli.import_:import_",
    "prime": "memman.cli.prime:prime",
    "guide": "memman.cli.prime:guide",
    "hook": "memman.cli.hook:hook",
    "embed": "memman.cli.embed:embed",
    "migrate": "memman.cli.migrate:migrate",
    "install": "memman.cli.install:install",
    "uninstall": "memman.cli.install:uninstall",
    "mcp": "memman.cli.mcp:mcp",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in modules named by a ``lazy`` mapping."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy:
            module_name, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, name)


class RootGroup(LazyGroup):
    """Runs in non-standalone mode and reports failures as one line each."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        debug = "--debug" in (sys.argv[1:] if args is None else list(args))
        try:
            rv = super().main(args, prog_name or "memman", complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(exc.format_message() + hint, 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except MemmanError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as exc:  # the last line of defence: never a bare traceback
            if debug:
                import traceback

                traceback.print_exc()
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: int) -> None:
    first = " ".join(str(message).split())
    click.echo(f"Error: {first}", err=True)
    sys.exit(code)


@click.group(cls=RootGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", metavar="PATH",
              help="Data directory (default $MEMMAN_DATA_DIR or ~/.memman).")
@click.option("--store", metavar="NAME", help="Store to use (default: the active store).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.option("--debug", is_flag=True, help="Debug logging and tracebacks.")
@click.version_option(__version__, "--version", prog_name="memman", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx, data_dir, store, verbose, debug):
    """memman: persistent, self-curating memory for AI coding agents."""
    from memman.cli.context import App

    ctx.obj = App(data_dir_option=data_dir, store_option=store, verbose=verbose, debug=debug)
    if verbose or debug:
        import logging

        logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                            format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main() -> None:
    cli.main(prog_name="memman")
