"""``memman hook EVENT`` (hidden): what the Claude Code hook scripts run.

Each script in ``hooks/`` is a thin wrapper around one of these events. The command
reads the hook's JSON payload from stdin, prints exactly what Claude Code should
read, and always exits 0: a hook must never fail its host, whatever state memman or
its store is in.

| event       | script           | Claude Code event          | output                          |
|-------------|------------------|----------------------------|---------------------------------|
| prime       | prime.sh         | SessionStart               | plain text (added to context)   |
| user-prompt | user_prompt.sh   | UserPromptSubmit           | plain text (added to context)   |
| stop        | stop.sh          | Stop                       | {"decision":"block",...} or ""  |
| task-recall | task_recall.sh   | PreToolUse (Agent|Task)    | hookSpecificOutput JSON         |
| exit-plan   | exit_plan.sh     | PreToolUse (ExitPlanMode)  | hookSpecificOutput JSON         |
| compact     | compact.sh       | PreCompact                 | nothing (records the trigger)   |

State lives under ``<data_dir>/hook_state/``: ``stop/<session>`` marks a session whose
Stop hook already asked this turn (removed by the next UserPromptSubmit), and
``compact/<session>.json`` carries a PreCompact trigger to the SessionStart that
follows the compaction (read once, then deleted).
"""
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import click

from memman.cli.context import pass_app

EVENTS = ("prime", "user-prompt", "stop", "task-recall", "exit-plan", "compact")
STOP_MARKER_MAX_AGE = 2 * 3600        # seconds; older stop markers are swept by prime
COMPACT_MARKER_MAX_AGE = 24 * 3600
MAX_STDIN = 4 * 1024 * 1024           # payloads are small; never read without bound

USER_PROMPT_TEXT = (
    "[memman] Before answering, check long-term memory for what you already know about "
    "this request: memman recall \"<focused keywords>\" --limit 5. If the user states a "
    "decision, preference, durable fact or working fix, store it now as one "
    "self-contained statement with memman remember \"...\"."
)
STOP_REASON = (
    "[memman] Memory check: did this turn produce anything a later session should know "
    "- a decision and its reason, a user preference or directive, a durable fact, a fix "
    "that worked? If so, store each one now with memman remember \"<one self-contained "
    "statement>\" (run it with Bash yourself, not through a sub-agent; name things instead "
    "of saying it/this; --source agent for your own conclusions). Never store secrets, "
    "status updates or anything the repository already records. If nothing qualifies, "
    "finish without mentioning this check."
)
TASK_RECALL_TEXT = (
    "[memman] A sub-agent does not see your memory reminders. Before delegating, recall "
    "what memory holds on this task (memman recall \"<focused keywords>\" --limit 5) and "
    "put the relevant memories - decisions, conventions, known pitfalls - into the "
    "sub-agent's prompt."
)
EXIT_PLAN_TEXT = (
    "[memman] Before carrying out this plan, store the durable decisions in it - each "
    "choice with its reason, one self-contained statement per memory - with memman "
    "remember \"...\" --cat decision. Skip steps, status and anything the code will "
    "record once the plan is done."
)

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def read_payload(stream=None) -> dict:
    """The hook's JSON object from stdin; {} when absent, invalid or not an object."""
    stream = stream or sys.stdin
    try:
        if stream is None or stream.isatty():
            return {}
    except (AttributeError, ValueError, OSError):
        pass
    try:
        raw = stream.read(MAX_STDIN)
        data = json.loads(raw) if raw and raw.strip() else {}
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def session_key(payload: dict) -> str | None:
    """A file-name-safe key for the payload's session_id (None without one)."""
    sid = payload.get("session_id")
    if not isinstance(sid, str) or not sid.strip():
        return None
    if _SAFE_ID.match(sid) and ".." not in sid:
        return sid
    return "h-" + hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()[:32]


def state_dir(datadir) -> Path:
    return Path(datadir.root) / "hook_state"


def _ensure_dir(datadir, path: Path) -> None:
    """Create ``path`` (under the data dir, which is created first) with mode 0700."""
    datadir.ensure()
    root = Path(datadir.root)
    for p in reversed([path, *path.parents]):
        if p == root or root not in p.parents:
            continue
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:
            pass


def _sweep(folder: Path, max_age: float, now: float) -> None:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        try:
            if now - entry.lstat().st_mtime > max_age:
                if entry.is_dir() and not entry.is_symlink():
                    entry.rmdir()
                else:
                    entry.unlink()
        except OSError:
            pass


def _pre_tool_use(text: str) -> str:
    return json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse",
                                              "additionalContext": text}})


# -- events ---------------------------------------------------------------------------


def on_prime(app, payload: dict) -> str:
    from memman.cli.prime import prime_text

    root = state_dir(app.datadir)
    now = time.time()
    _sweep(root / "stop", STOP_MARKER_MAX_AGE, now)
    _sweep(root / "compact", COMPACT_MARKER_MAX_AGE, now)
    extra = []
    if payload.get("source") == "compact":
        trigger = "auto"
        key = session_key(payload)
        if key:
            marker = root / "compact" / f"{key}.json"
            try:
                recorded = json.loads(marker.read_text(encoding="utf-8")).get("trigger")
                if recorded in ("manual", "auto"):
                    trigger = recorded
            except Exception:
                pass
            try:
                marker.unlink()
            except OSError:
                pass
        extra.append(
            f"[memman] The conversation was just compacted ({trigger}); details from before "
            "the compaction are no longer in context. Recall what you need to continue: "
            "memman recall \"<current topic>\" --limit 5."
        )
    return prime_text(app, extra=extra)


def on_user_prompt(app, payload: dict) -> str:
    key = session_key(payload)
    if key:
        try:
            (state_dir(app.datadir) / "stop" / key).unlink()
        except OSError:
            pass
    return USER_PROMPT_TEXT


def on_stop(app, payload: dict) -> str:
    if payload.get("stop_hook_active") is True:
        return ""
    from memman.scheduler import state

    if state.read(app.datadir) == state.STOPPED:
        return ""  # remember would be refused; asking would only waste a turn
    key = session_key(payload)
    if key:
        folder = state_dir(app.datadir) / "stop"
        try:
            _ensure_dir(app.datadir, folder)
            fd = os.open(folder / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            return ""  # already asked this turn
        except OSError:
            return ""  # no place to record the ask: stay quiet rather than risk repeats
    return json.dumps({"decision": "block", "reason": STOP_REASON})


def on_compact(app, payload: dict) -> str:
    key = session_key(payload)
    if not key:
        return ""
    trigger = payload.get("trigger")
    trigger = trigger if trigger in ("manual", "auto") else "auto"
    folder = state_dir(app.datadir) / "compact"
    try:
        _ensure_dir(app.datadir, folder)
        from memman.config.envfile import write_atomic

        write_atomic(folder / f"{key}.json", json.dumps({"trigger": trigger, "ts": time.time()}))
    except OSError:
        pass
    return ""  # PreCompact output never reaches Claude, and a block would stop compaction


HANDLERS = {
    "prime": on_prime,
    "user-prompt": on_user_prompt,
    "stop": on_stop,
    "task-recall": lambda app, payload: _pre_tool_use(TASK_RECALL_TEXT),
    "exit-plan": lambda app, payload: _pre_tool_use(EXIT_PLAN_TEXT),
    "compact": on_compact,
}


def run(app, event: str, payload: dict) -> str:
    """The exact stdout for ``event``; '' on any failure (hooks never fail the host)."""
    try:
        return HANDLERS[event](app, payload) or ""
    except Exception:
        if event == "prime":
            try:
                from memman.cli.prime import guide_text

                return "[memman] Warning: memory status is unavailable.\n\n" + guide_text() + "\n"
            except Exception:
                return ""
        return ""


@click.command(hidden=True)
@click.argument("event", type=click.Choice(EVENTS))
@pass_app
def hook(app, event):
    """Run a Claude Code hook: read its JSON payload on stdin, print the reply."""
    out = run(app, event, read_payload())
    if out:
        click.echo(out, nl=not out.endswith("\n"))
