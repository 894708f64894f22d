"""Checks of everything around the stores: the queue, the scheduler, the env file,
the data dir's permissions and the agent-host hook files. None of them writes."""
import os
import stat
from pathlib import Path

from memman import clock
from memman.doctor.report import FAIL, PASS, WARN, check
from memman.errors import MemmanError

QUEUE_DEPTH_WARN = 50
QUEUE_DEPTH_FAIL = 100
QUEUE_AGE_WARN_SECONDS = 3600
QUEUE_AGE_FAIL_SECONDS = 86400
DRAIN_HEARTBEAT_STALE_SECONDS = 300


def run(ctx) -> list[dict]:
    checks = _queue_checks(ctx)
    checks += _scheduler_checks(ctx, _last_run(ctx))
    checks += [_env_completeness(ctx), _env_values(ctx), _per_store_keys(ctx),
               _stale_post_migrate_source(ctx), _env_permissions(ctx), _zero_config(ctx)]
    checks += hook_checks(ctx)
    checks.append(_optional_extras())
    from memman.upgrade.report import doctor_checks as upgrades_from_016

    checks += upgrades_from_016(ctx)
    return checks


# -- queue -------------------------------------------------------------------------------


def _open_queue(ctx):
    """The queue, or None before the first remember. Opened read-only where the data
    dir is not writable; elsewhere its schema is brought up to date, as every command
    does."""
    from memman.db import writable_dir
    from memman.queue.db import open_queue

    return open_queue(ctx.datadir, create=False,
                      readonly=not writable_dir(ctx.datadir.root))


def _last_run(ctx) -> dict | None:
    try:
        queue = _open_queue(ctx)
    except MemmanError:
        return None
    if queue is None:
        return None
    try:
        return queue.last_run()
    except Exception:  # a broken queue is reported by queue_schema
        return None
    finally:
        queue.close()


def _queue_checks(ctx) -> list[dict]:
    try:
        queue = _open_queue(ctx)
    except MemmanError as exc:
        return [check("queue_schema", FAIL, str(exc),
                      f"move {ctx.datadir.queue_db} aside (a new queue is created on the "
                      "next remember)")]
    if queue is None:
        return [check("queue_schema", PASS, "no queue yet (created by the first remember)"),
                check("queue_backlog", PASS, "no queue yet")]
    try:
        problems = queue.schema_problems()
        if problems:
            return [check("queue_schema", FAIL, "; ".join(problems),
                          "run memman where the data dir is writable (any queue command, "
                          "e.g. " + ctx.memman("scheduler", "queue", "list") + ", upgrades it)")]
        stats = queue.stats()
        drain = _drain_heartbeat(ctx, queue.last_run())
    finally:
        queue.close()
    return [check("queue_schema", PASS, "queue and worker_runs tables present"),
            queue_backlog(ctx, stats), drain]


def queue_backlog(ctx, stats: dict) -> dict:
    waiting = stats["pending"] + stats["claimed"]
    age = stats["oldest_pending_age_seconds"] or 0
    detail = (f"{waiting} waiting" + (f" (oldest {age:.0f} s)" if waiting else "")
              + f", {stats['failed']} failed, {stats['stale']} stale")
    if waiting >= QUEUE_DEPTH_FAIL or age >= QUEUE_AGE_FAIL_SECONDS:
        return check("queue_backlog", FAIL, detail, ctx.memman("scheduler", "drain"))
    if waiting >= QUEUE_DEPTH_WARN or age >= QUEUE_AGE_WARN_SECONDS:
        return check("queue_backlog", WARN, detail, ctx.memman("scheduler", "drain"))
    if stats["failed"]:
        return check("queue_backlog", WARN, detail,
                     ctx.memman("scheduler", "queue", "failed") + " then "
                     + ctx.memman("scheduler", "queue", "retry", "--all-failed"))
    if stats["stale"]:
        return check("queue_backlog", WARN, detail + " (parked: older than a week, never "
                     "tried)", ctx.memman("scheduler", "queue", "retry", "--all-stale"))
    return check("queue_backlog", PASS, detail)


def _drain_heartbeat(ctx, last: dict | None) -> dict:
    if last is None or last.get("finished_at") is not None:
        return check("drain_heartbeat", PASS, "no drain in progress")
    beat = last.get("heartbeat_at") or last["started_at"]
    silent = clock.now() - beat
    who = f"run {last['id']} (pid {last.get('worker_pid')} on {last.get('hostname') or '?'})"
    if silent > DRAIN_HEARTBEAT_STALE_SECONDS:
        return check("drain_heartbeat", WARN, f"{who} has not reported for {silent:.0f} s: "
                     "it died or hangs", "kill that worker if it still runs; the next drain "
                     "recovers its rows: " + ctx.memman("scheduler", "drain"))
    return check("drain_heartbeat", PASS, f"{who} is draining (last report {silent:.0f} s ago)")


# -- scheduler --------------------------------------------------------------------------


def scheduler_facts(ctx) -> dict:
    """kind, installed, interval, unit (systemd/launchd), serve_running, error."""
    from memman.scheduler import units

    facts: dict = {"kind": None, "installed": False, "interval": None, "unit": None,
                   "serve_running": False, "error": None}
    try:
        kind = units.detect_kind(strict=False)
    except MemmanError as exc:
        facts["error"] = str(exc)
        return facts
    facts["kind"] = kind
    if kind == "serve":
        running = _read_int(ctx.datadir.root / "scheduler.serve_interval")
        recorded = _int_or_none(ctx.settings.values.get("MEMMAN_INTERVAL"))
        facts.update(installed=recorded is not None or running is not None,
                     serve_running=running is not None,
                     interval=running if running is not None else
                     (recorded if recorded is not None else units.DEFAULT_INTERVAL))
    elif kind in ("systemd", "launchd"):
        unit = units.installed(kind)
        facts.update(unit=unit, installed=unit.complete and unit.serves(ctx.datadir),
                     interval=unit.interval)
    return facts


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _scheduler_checks(ctx, last: dict | None) -> list[dict]:
    from memman.scheduler import state

    facts = scheduler_facts(ctx)
    current = state.read(ctx.datadir)
    return [_scheduler_state(ctx, facts, current),
            _scheduler_heartbeat(ctx, facts, current, last),
            _scheduler_unit(ctx, facts)]


def _scheduler_state(ctx, facts: dict, current: str) -> dict:
    if facts["error"]:
        return check("scheduler_state", WARN, facts["error"],
                     "MEMMAN_SCHEDULER_KIND=serve " + ctx.memman("scheduler", "install"))
    unit = facts["unit"]
    if unit is not None and unit.complete and not unit.serves(ctx.datadir):
        return check("scheduler_state", WARN, f"the installed {facts['kind']} timer drains "
                     f"{unit.data_dir}, not this data dir", ctx.memman("scheduler", "install"))
    if not facts["installed"]:
        where = facts["kind"] or "no scheduler kind detected"
        return check("scheduler_state", WARN, f"not installed ({where}): queued memories "
                     "wait for a manual 'memman scheduler drain'",
                     ctx.memman("scheduler", "install"))
    if current != "started":
        return check("scheduler_state", WARN, "stopped: remember, replace and forget are "
                     "refused", ctx.memman("scheduler", "start"))
    return check("scheduler_state", PASS,
                 f"started, {facts['kind']} every {facts['interval']} s")


def _scheduler_heartbeat(ctx, facts: dict, current: str, last: dict | None) -> dict:
    if not facts["installed"] or current != "started":
        return check("scheduler_heartbeat", PASS,
                     "not applicable: no started scheduler for this data dir")
    if facts["kind"] == "serve" and not facts["serve_running"]:
        return check("scheduler_heartbeat", FAIL, "serve mode is recorded but no 'memman "
                     "scheduler serve' is running for this data dir",
                     ctx.memman("scheduler", "serve") + " (as a long-lived process)")
    trigger = (ctx.memman("scheduler", "trigger") if facts["kind"] != "serve"
               else ctx.memman("scheduler", "status"))
    if last is None:
        return check("scheduler_heartbeat", FAIL, "the scheduler has never run a drain",
                     trigger)
    if last.get("error"):
        return check("scheduler_heartbeat", FAIL, f"the last drain failed: {last['error']}",
                     ctx.memman("log", "worker", "--errors"))
    interval = facts["interval"] or 0
    beat = last.get("heartbeat_at") or last.get("finished_at") or last["started_at"]
    age = clock.now() - beat
    detail = f"last drain reported {age:.0f} s ago (interval {interval} s)"
    if age > max(3 * interval, 180):
        return check("scheduler_heartbeat", FAIL, detail, trigger)
    if age > max(2 * interval, 120):
        return check("scheduler_heartbeat", WARN, detail, trigger)
    return check("scheduler_heartbeat", PASS, detail)


def _scheduler_unit(ctx, facts: dict) -> dict:
    from memman.integrations import memman_executable

    unit = facts["unit"]
    if unit is None or not unit.present:
        return check("scheduler_unit", PASS, "not applicable: no systemd or launchd unit")
    fix = ctx.memman("scheduler", "install")
    if not unit.complete:
        missing = [str(p) for p in unit.paths if p not in unit.present]
        return check("scheduler_unit", FAIL, "incomplete unit: missing " + ", ".join(missing),
                     fix)
    target = unit.memman
    if not target or not os.path.isfile(target) or not os.access(target, os.X_OK):
        return check("scheduler_unit", FAIL, f"the unit runs {target or '(nothing)'}, which "
                     "is not an executable file", fix)
    current = memman_executable()
    if os.path.realpath(target) != os.path.realpath(current):
        return check("scheduler_unit", WARN, f"the unit runs {target}, not this memman "
                     f"({current})", fix)
    return check("scheduler_unit", PASS, f"{facts['kind']} unit runs {target}")


# -- env file ------------------------------------------------------------------------------


def _env_completeness(ctx) -> dict:
    from memman.config.keys import FAMILIES, KEYS, PROCESS_ONLY, _closest, split_family
    from memman.embed.registry import from_settings

    values = ctx.settings.values
    problems = []
    for name in values:
        if name in KEYS or split_family(name) or name in FAMILIES:
            continue
        if name in PROCESS_ONLY:
            problems.append(f"{name} is read from the process environment, not the env file")
            continue
        close = _closest(name)
        problems.append(f"unknown key {name}" + (f" (did you mean {close}?)" if close else ""))
    try:
        missing = from_settings(ctx.settings).missing_key
    except MemmanError as exc:
        missing, problems = None, problems + [str(exc)]
    if missing:
        problems.append(f"MEMMAN_EMBED_PROVIDER={ctx.settings.get('MEMMAN_EMBED_PROVIDER')} "
                        f"needs {missing}: new stores cannot get vectors")
    problems += _rerank_gaps(ctx)
    if problems:
        first = problems[0]
        remedy = (ctx.memman("config", "set", missing, "<key>") if missing and
                  first.endswith("cannot get vectors") else ctx.memman("config", "show"))
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return check("env_completeness", WARN, first + more, remedy)
    if not ctx.settings.env_file.exists():
        return check("env_completeness", PASS, "no env file: zero-config defaults")
    return check("env_completeness", PASS, f"{len(values)} keys, all known; configured "
                 "providers have their credentials")


def _rerank_gaps(ctx) -> list[str]:
    settings = ctx.settings
    enabled = settings.flag("MEMMAN_RERANK_ENABLED") or any(
        settings.flag(f"MEMMAN_RERANK_ENABLED_{s}") for s in ctx.datadir.sqlite_stores())
    if not enabled:
        return []
    provider = settings.get("MEMMAN_RERANK_PROVIDER")
    if provider == "voyage" and not settings.get("MEMMAN_VOYAGE_API_KEY"):
        return ["rerank is enabled with voyage but MEMMAN_VOYAGE_API_KEY is not set"]
    if provider == "http" and not settings.get("MEMMAN_RERANK_ENDPOINT"):
        return ["rerank is enabled with http but MEMMAN_RERANK_ENDPOINT is not set"]
    return []


def _env_values(ctx) -> dict:
    from memman.config.keys import KEYS, validate

    bad = []
    for name, value in ctx.settings.values.items():
        if name not in KEYS:
            continue
        try:
            validate(name, value)
        except MemmanError as exc:
            bad.append((name, str(exc)))
    if bad:
        name, message = bad[0]
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        return check("env_values", FAIL, message + more,
                     ctx.memman("config", "set", name, "<value>"))
    return check("env_values", PASS, "every global key has a valid value")


def _per_store_keys(ctx) -> dict:
    from memman.config.keys import split_family, validate

    bad = []
    count = 0
    for name, value in ctx.settings.values.items():
        family = split_family(name)
        if not family and name != "MEMMAN_DEFAULT_BACKEND":
            continue
        count += 1
        try:
            value = validate(name, value)
        except MemmanError as exc:
            bad.append((name, str(exc), "<value>"))
            continue
        if (name.startswith("MEMMAN_BACKEND_") or name == "MEMMAN_DEFAULT_BACKEND") \
                and value != "sqlite":
            bad.append((name, f"{name}={value}: this memman build has only the SQLite "
                        "backend", "sqlite"))
    if bad:
        name, message, value = bad[0]
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        return check("per_store_keys", FAIL, message + more,
                     ctx.memman("config", "set", name, value))
    if not count:
        return check("per_store_keys", PASS, "no per-store keys set")
    return check("per_store_keys", PASS, f"{count} routing and per-store keys valid")


def _stale_post_migrate_source(ctx) -> dict:
    left = [s for s in ctx.datadir.sqlite_stores() if ctx.settings.backend_for(s) != "sqlite"]
    if left:
        paths = ", ".join(str(ctx.datadir.store_dir(s)) for s in left)
        return check("stale_post_migrate_source", WARN, "stores routed away from SQLite still "
                     f"have SQLite files: {paths}", f"move {paths} to {ctx.datadir.archive_dir}")
    return check("stale_post_migrate_source", PASS,
                 "not applicable: no store is routed to another backend")


def _env_permissions(ctx) -> dict:
    root = ctx.datadir.root
    if not root.is_dir():
        return check("env_permissions", PASS, "no data dir yet")
    problems: list[tuple[str, str, str]] = []  # (status, detail, remedy)
    for path in (root, ctx.datadir.stores_dir):
        if not path.is_dir():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o022:
            problems.append((FAIL, f"{path} is writable by others ({mode:04o})",
                             f"chmod 700 {path}"))
        elif mode & 0o077:
            problems.append((WARN, f"{path} is readable by others ({mode:04o})",
                             f"chmod 700 {path}"))
    env = ctx.datadir.env_file
    if env.is_file():
        mode = stat.S_IMODE(env.stat().st_mode)
        if mode & 0o077:
            problems.append((FAIL, f"{env} holds secrets but is mode {mode:04o}",
                             f"chmod 600 {env}"))
    if problems:
        problems.sort(key=lambda p: p[0] != FAIL)
        status, detail, remedy = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return check("env_permissions", status, detail + more, remedy)
    env_part = "env 0600" if env.is_file() else "no env file"
    return check("env_permissions", PASS, f"data dir owner-only, {env_part}")


def _zero_config(ctx) -> dict:
    from memman.llm.client import is_loopback, llm_mode

    settings = ctx.settings
    provider = settings.get("MEMMAN_EMBED_PROVIDER") or "builtin"
    endpoint = settings.values.get("MEMMAN_LLM_ENDPOINT")
    if llm_mode(settings) == "llm":
        where = settings.get("MEMMAN_LLM_ENDPOINT")
        return check("zero_config", PASS, f"off: LLM worker via {where} "
                     f"({settings.get('MEMMAN_LLM_MODEL_SLOW_CANONICAL')}), embedder "
                     f"{provider}")
    if endpoint and endpoint.lower() != "none" and not is_loopback(endpoint):
        return check("zero_config", WARN, f"in use although MEMMAN_LLM_ENDPOINT is set to "
                     f"{endpoint}: no MEMMAN_LLM_API_KEY, so the worker runs on rules",
                     ctx.memman("config", "set", "MEMMAN_LLM_API_KEY", "<key>"))
    if provider == "builtin":
        return check("zero_config", PASS, "in use: rule-based worker and builtin embedder "
                     "(no keys, no network)")
    return check("zero_config", PASS, f"rule-based worker, {provider} embedder")


# -- hook files -----------------------------------------------------------------------------


def _install_context(ctx):
    from memman.integrations import InstallContext, memman_executable

    return InstallContext(home=Path(os.path.expanduser("~")), data_dir=ctx.datadir.root,
                          memman_bin=memman_executable())


def hook_checks(ctx) -> list[dict]:
    """One ``hook_files`` check per installed host (one pass when there is none)."""
    install_ctx = _install_context(ctx)
    out = []
    for host, inspect in (("claude-code", _claude_code_hooks), ("openclaw", _openclaw_hooks)):
        try:
            found = inspect(ctx, install_ctx)
        except Exception as exc:  # an unreadable host config is a finding, not a crash
            found = check("hook_files", FAIL, f"cannot inspect: {exc}",
                          ctx.memman("install", "--target", host), host=host)
        if found is not None:
            out.append(found)
    if not out:
        out.append(check("hook_files", PASS, "not applicable: no agent host integration "
                         "installed"))
    return out


def _executable(path) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def _claude_code_hooks(ctx, install_ctx) -> dict | None:
    from memman.integrations import claude_code as cc
    from memman.integrations import files

    folder = cc.hooks_dir(install_ctx)
    settings = files.read_json(cc.settings_path(install_ctx))
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    registered = sum(1 for groups in hooks.values() if isinstance(groups, list)
                     for group in groups if isinstance(group, dict)
                     for handler in (group.get("hooks") or []) if cc.is_ours(handler))
    if not folder.is_dir() and not registered:
        return None
    fix = ctx.memman("install", "--target", "claude-code")
    broken = [s for s in (*cc.SCRIPTS, cc.RUNNER) if not _executable(folder / s)]
    if broken:
        return check("hook_files", FAIL, f"{len(broken)} hook scripts missing or not "
                     f"executable in {folder}: " + ", ".join(broken), fix, host="claude-code")
    from memman.config import envfile

    conf = envfile.read(folder / cc.CONF_NAME)
    binary = conf.get("MEMMAN_BIN")
    if not _executable(binary):
        return check("hook_files", FAIL, f"{folder / cc.CONF_NAME} points the hooks at "
                     f"{binary or '(nothing)'}, which is not an executable file", fix,
                     host="claude-code")
    if registered < len(cc.REGISTRATIONS):
        return check("hook_files", WARN, f"settings.json registers {registered} of "
                     f"{len(cc.REGISTRATIONS)} memman hooks", fix, host="claude-code")
    return check("hook_files", PASS, f"{len(cc.SCRIPTS)} hooks registered and executable, "
                 f"running {binary}", host="claude-code")


def _openclaw_hooks(ctx, install_ctx) -> dict | None:
    import json

    from memman.integrations import openclaw as oc

    plugin = oc.state_dir(install_ctx) / "extensions" / oc.PLUGIN_ID
    if not plugin.is_dir():
        return None
    fix = ctx.memman("install", "--target", "openclaw")
    missing = [p for p in oc.planned_files(install_ctx) if not p.is_file()]
    if missing:
        return check("hook_files", FAIL, f"{len(missing)} plugin/hook files missing: "
                     + ", ".join(str(p) for p in missing[:3]), fix, host="openclaw")
    try:
        binary = json.loads((plugin / oc.BIN_FILE).read_text(encoding="utf-8")).get("memman")
    except (OSError, ValueError, AttributeError):
        binary = None
    if not _executable(binary):
        return check("hook_files", FAIL, f"{plugin / oc.BIN_FILE} points at "
                     f"{binary or '(nothing)'}, which is not an executable file", fix,
                     host="openclaw")
    return check("hook_files", PASS, f"plugin, hook and skill present, running {binary}",
                 host="openclaw")


# -- extras ---------------------------------------------------------------------------------


def _optional_extras() -> dict:
    from importlib.util import find_spec

    postgres = all(find_spec(m) is not None for m in ("psycopg", "pgvector"))
    return check("optional_extras", PASS, "postgres extra " + (
        "installed (unused: no Postgres backend in this build)" if postgres
        else "not installed"))
