"""``memman install`` / ``memman uninstall``: wire memman into agent hosts.

Without ``--target`` both commands act on every host whose module is available in this
build and whose ``detect`` finds it; a module that cannot be imported yet is listed
under ``skipped``. Install first checks every chosen host (``preflight``, when the
module has one) so a refusal (an unparseable settings file, say) changes nothing.

Configuration comes from flags (validated, written to the env file) and, only when
stdin is a terminal and ``--no-wizard`` is absent, from a short wizard with masked key
input. Skipping every question keeps the zero-config install: the built-in embedder
and the heuristic worker, no keys needed. Output is one JSON document.
"""
import sys
from pathlib import Path

import click

from memman.cli.context import emit, pass_app
from memman.integrations import TARGETS

# embedding provider -> the key the wizard asks for (None: no key needed)
EMBED_KEYS = {
    "builtin": None,
    "voyage": "MEMMAN_VOYAGE_API_KEY",
    "openai": "MEMMAN_OPENAI_EMBED_API_KEY",
    "openrouter": "MEMMAN_OPENROUTER_API_KEY",
    "ollama": None,
}
WIZARD_ATTEMPTS = 3


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _load(name: str, explicit: bool, skipped: list):
    """The module for ``name``; None (noted in ``skipped``) when it is not available and
    the target was not asked for explicitly."""
    from memman.integrations import module_for

    if explicit:
        return module_for(name)
    try:
        return module_for(name)
    except Exception as exc:  # not written yet, or broken: not this command's business
        skipped.append({"target": name, "reason": str(exc)})
        return None


def _choose(targets: tuple, ctx_factory, skipped: list) -> list:
    chosen = []
    for name in (targets or tuple(TARGETS)):
        module = _load(name, bool(targets), skipped)
        if module is None:
            continue
        if not targets:
            try:
                found = module.detect(ctx_factory())
            except Exception as exc:
                skipped.append({"target": name, "reason": f"detection failed: {exc}"})
                continue
            if not found:
                skipped.append({"target": name, "reason": "not detected on this machine"})
                continue
        chosen.append((name, module))
    return chosen


def _flag_changes(llm_endpoint, embed_provider, backend, pg_dsn) -> dict:
    from memman.config.keys import validate
    from memman.errors import MemmanError

    if backend is not None and backend.strip().lower() == "postgres":
        if not pg_dsn:
            raise MemmanError("--backend postgres needs --pg-dsn DSN (or write it first "
                              "with 'memman config set-pg-dsn --default')")
        from memman.store.pg_connect import probe

        probe(pg_dsn.strip())  # connect, SELECT 1, pgvector available: or one-line error
    changes = {}
    for key, value in (("MEMMAN_LLM_ENDPOINT", llm_endpoint),
                       ("MEMMAN_EMBED_PROVIDER", embed_provider),
                       ("MEMMAN_DEFAULT_BACKEND", backend),
                       ("MEMMAN_DEFAULT_POSTGRES_DSN", pg_dsn)):
        if value is not None:
            changes[key] = validate(key, value.strip())
    return changes


def _ask(question: str, key: str, *, secret: bool = False) -> str | None:
    """Prompt (on stderr) until the answer validates; '' or too many bad answers: None."""
    from memman.config.keys import validate
    from memman.errors import MemmanError

    for _ in range(WIZARD_ATTEMPTS):
        answer = click.prompt(question, default="", show_default=False, hide_input=secret,
                              err=True).strip()
        if not answer:
            return None
        try:
            return validate(key, answer)
        except MemmanError as exc:
            click.echo(f"  {exc}", err=True)
    click.echo(f"  skipped {key}", err=True)
    return None


def wizard(settings) -> dict:
    """Ask for the LLM endpoint and key and the embedding provider and key."""
    from memman.config.keys import EMBED_PROVIDERS, mask

    def current(key):
        value = settings.values.get(key)
        return f" [now {mask(key, value)}]" if value else ""

    click.echo("memman setup. Press Enter to skip a question: with everything skipped memman "
               "runs in zero-config mode (built-in embedder, rule-based worker, no keys).",
               err=True)
    changes = {}
    endpoint = _ask("LLM endpoint (OpenAI-compatible base URL, or 'none')"
                    + current("MEMMAN_LLM_ENDPOINT"), "MEMMAN_LLM_ENDPOINT")
    if endpoint:
        changes["MEMMAN_LLM_ENDPOINT"] = endpoint
    if (endpoint or settings.get("MEMMAN_LLM_ENDPOINT")) != "none":
        key = _ask("LLM API key (input hidden)" + current("MEMMAN_LLM_API_KEY"),
                   "MEMMAN_LLM_API_KEY", secret=True)
        if key:
            changes["MEMMAN_LLM_API_KEY"] = key
    provider = _ask(f"Embedding provider ({', '.join(EMBED_PROVIDERS)})"
                    + current("MEMMAN_EMBED_PROVIDER"), "MEMMAN_EMBED_PROVIDER")
    if provider:
        changes["MEMMAN_EMBED_PROVIDER"] = provider
    key_name = EMBED_KEYS.get(provider or settings.get("MEMMAN_EMBED_PROVIDER") or "builtin")
    if key_name:
        key = _ask(f"{key_name} (input hidden)" + current(key_name), key_name, secret=True)
        if key:
            changes[key_name] = key
    return changes


def _context_factory(app, hooks_only: bool = False, write_path: str | None = None):
    from memman.integrations import InstallContext, memman_executable

    home = Path.home()
    data_dir = app.datadir.root
    memman_bin = memman_executable()
    return lambda: InstallContext(home=home, data_dir=data_dir, memman_bin=memman_bin,
                                  hooks_only=hooks_only, store=app.store_option,
                                  write_path=Path(write_path) if write_path else None)


def _current_interval(units, kind: str, datadir) -> int:
    """The interval an installed scheduler already uses, so a re-install keeps it."""
    if kind == "serve":
        recorded = units.get_interval(datadir).get("interval_seconds")
        return recorded or units.DEFAULT_INTERVAL
    unit = units.installed(kind)
    return unit.interval if unit.complete and unit.interval else units.DEFAULT_INTERVAL


def install_scheduler(datadir) -> dict:
    """Install the scheduler units after the hosts (as 'memman scheduler install').
    A machine without a scheduler, or a service manager that refuses, does not undo
    the hosts' install: the result says what happened and what to run."""
    from memman.errors import MemmanError
    from memman.scheduler import units

    try:
        kind = units.detect_kind(strict=False)
        if kind is None:
            return {"installed": False,
                    "reason": "no supported scheduler here (no systemd user manager, not "
                              "macOS)",
                    "remedy": "run 'memman scheduler serve' as a long-lived process, or "
                              "'memman scheduler drain' from your own timer"}
        return units.install(datadir, _current_interval(units, kind, datadir), kind=kind)
    except MemmanError as exc:
        return {"installed": False, "error": str(exc),
                "remedy": "fix the above, then run 'memman scheduler install'"}


def uninstall_scheduler(datadir) -> dict:
    from memman.errors import MemmanError
    from memman.scheduler import units

    try:
        return units.uninstall(datadir)
    except MemmanError as exc:
        return {"error": str(exc)}


def purge(datadir) -> dict:
    """Remove what uninstall keeps by default: the scheduler state file and the
    secrets in the env file (other settings stay)."""
    from memman.config import envfile
    from memman.config.keys import is_secret

    removed = []
    secrets = [k for k in envfile.read(datadir.env_file) if is_secret(k)]
    if secrets:
        envfile.update(datadir.env_file, datadir.env_lock, {k: None for k in secrets})
        removed += [f"{datadir.env_file} ({k})" for k in secrets]
    if datadir.scheduler_state.exists():
        datadir.scheduler_state.unlink()
        removed.append(str(datadir.scheduler_state))
    return {"removed": removed}


def _entry(name: str, result, ctx) -> dict:
    entry = {"target": name}
    if isinstance(result, dict):
        entry.update({k: v for k, v in result.items() if k != "target"})
    entry["changes"] = list(entry.get("changes") or ctx.changes)
    return entry


@click.command()
@click.option("--target", "targets", multiple=True, type=click.Choice(list(TARGETS)),
              help="Host to install into (repeatable; default: every detected host).")
@click.option("--no-wizard", is_flag=True, help="Never prompt, even on a terminal.")
@click.option("--llm-endpoint", metavar="URL",
              help="OpenAI-compatible base URL for the worker's LLM, or 'none'.")
@click.option("--embed-provider", metavar="P",
              help="Embedder for new stores: builtin, voyage, openai, openrouter or ollama.")
@click.option("--backend", metavar="sqlite|postgres", help="Default storage backend.")
@click.option("--pg-dsn", metavar="DSN", help="Default Postgres DSN.")
@click.option("--no-scheduler", is_flag=True,
              help="Leave the scheduler units alone (default: install them too).")
@click.option("--hooks-only", is_flag=True,
              help="Claude Code: hooks and settings only, no skill file (for hosts that "
                   "manage skills themselves, such as NanoClaw containers).")
@click.option("--write", "write_path", metavar="PATH",
              help="mcp-json: merge the memman server entry into this MCP client config "
                   "(.toml: Codex; otherwise JSON with mcpServers). Default: print it.")
@pass_app
def install(app, targets, no_wizard, llm_endpoint, embed_provider, backend, pg_dsn,
            no_scheduler, hooks_only, write_path):
    """Install memman's hooks, skill and settings into agent hosts, then the scheduler."""
    from memman.config import envfile
    from memman.config.keys import mask
    from memman.config.settings import Settings
    from memman.worker.provenance import active

    changes = _flag_changes(llm_endpoint, embed_provider, backend, pg_dsn)
    if write_path is not None and "mcp-json" not in targets:
        raise click.UsageError("--write is for --target mcp-json only")
    make_ctx = _context_factory(app, hooks_only, write_path)
    skipped: list = []
    chosen = _choose(targets, make_ctx, skipped)
    for _name, module in chosen:
        check = getattr(module, "preflight", None)
        if check is not None:
            check(make_ctx())

    datadir = app.datadir
    datadir.ensure()
    if not no_wizard and _stdin_is_tty():
        changes.update(wizard(app.settings))
    if changes:
        envfile.update(datadir.env_file, datadir.env_lock, changes)

    installed = []
    for name, module in chosen:
        ctx = make_ctx()
        installed.append(_entry(name, module.install(ctx), ctx))
    ctx = make_ctx()
    out = {
        "installed": installed,
        "skipped": skipped,
        "data_dir": str(ctx.data_dir),
        "memman_bin": ctx.memman_bin,
        "mode": active(Settings(datadir.env_file))["mode"],
        "config": {k: mask(k, v) for k, v in sorted(changes.items())},
    }
    if not no_scheduler:
        out["scheduler"] = install_scheduler(datadir)
    emit(out)


@click.command()
@click.option("--target", "targets", multiple=True, type=click.Choice(list(TARGETS)),
              help="Host to remove memman from (repeatable; default: every detected host).")
@click.option("--no-scheduler", is_flag=True,
              help="Leave the scheduler units installed (default: remove them too).")
@click.option("--purge", "purge_all", is_flag=True,
              help="Also remove the scheduler state file and the secrets in the env file.")
@pass_app
def uninstall(app, targets, no_scheduler, purge_all):
    """Remove what 'memman install' added to agent hosts, then the scheduler units
    (memories, queue, logs and settings are kept)."""
    make_ctx = _context_factory(app)
    skipped: list = []
    chosen = _choose(targets, make_ctx, skipped)
    removed = []
    for name, module in chosen:
        ctx = make_ctx()
        removed.append(_entry(name, module.uninstall(ctx), ctx))
    out = {
        "uninstalled": removed,
        "skipped": skipped,
        "data_dir": str(app.datadir.root),
        "kept": "memories, queue, logs and the env file in the data dir",
    }
    if not no_scheduler:
        out["scheduler"] = uninstall_scheduler(app.datadir)
    if purge_all:
        out["purged"] = purge(app.datadir)
        out["kept"] = "memories, queue, logs and the non-secret settings in the data dir"
    emit(out)
