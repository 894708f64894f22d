"""The Claude Code hooks as Claude Code runs them (whole processes).

``memman install --target claude-code`` into a temp HOME, then every registered
command string from settings.json is run the way Claude Code runs it (``sh -c``, the
payload on stdin, a bare PATH without memman on it) with recorded payloads shaped as
in the host contract (§1.4). Checks: exit code 0, the stdout class Claude Code
derives (JSON when the first non-blank character is ``{``, else plain text), the
exact JSON fields it reads, side-effect files, the 10,000-character cap, and that a
missing, failing or misconfigured memman and a corrupt store never break the host.
"""
import json
import os
import random
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAP = 10_000
BARE_PATH = "/usr/bin:/bin"
GUIDE = (ROOT / "assets" / "guide.md").read_text()

SESSION = "5c1d1b51-6a41-4a4e-9d0e-7d3f3c9f2b10"


def payload(event: str, session: str = SESSION, **fields) -> dict:
    base = {"hook_event_name": event, "session_id": session,
            "transcript_path": f"/home/u/.claude/projects/-repo/{session}.jsonl",
            "cwd": "/repo"}
    if event == "SessionStart":
        base.update(source="startup", model="claude-sonnet-4-6")
    elif event == "UserPromptSubmit":
        base.update(permission_mode="default", prompt="Add retries to the webhook handler")
    elif event == "PreToolUse":
        base.update(permission_mode="default", tool_name="Agent",
                    tool_input={"prompt": "Find every webhook handler", "description":
                                "Find webhook handlers", "subagent_type": "Explore",
                                "model": "sonnet"},
                    tool_use_id="toolu_01ABC", effort={"level": "medium"})
    elif event == "Stop":
        base.update(permission_mode="default", stop_hook_active=False,
                    last_assistant_message="Added retries with back-off.",
                    background_tasks=[], session_crons=[])
    elif event == "PreCompact":
        base.update(trigger="auto", custom_instructions="")
    base.update(fields)
    return base


class Host:
    """A temp HOME with memman installed for Claude Code."""

    def __init__(self, tmp_path: Path, memman_bin: str):
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.data = tmp_path / "memman"
        (self.home / ".claude").mkdir(parents=True)
        self.memman_bin = memman_bin
        self.base_env = {"HOME": str(self.home), "PATH": BARE_PATH, "LANG": "C.UTF-8"}
        proc = self.memman("install", "--target", "claude-code", "--no-wizard")
        assert proc.returncode == 0, proc.stderr
        self.install_report = json.loads(proc.stdout)
        self.settings = json.loads((self.home / ".claude" / "settings.json").read_text())

    @property
    def hooks_dir(self) -> Path:
        return self.home / ".claude" / "hooks" / "memman"

    def memman(self, *args, env=None):
        full = {**self.base_env, "MEMMAN_DATA_DIR": str(self.data), **(env or {})}
        return subprocess.run([self.memman_bin, *args], capture_output=True, text=True,
                              env=full, timeout=60)

    def command(self, event: str, tool: str | None = None) -> str:
        for group in self.settings["hooks"][event]:
            matcher = group.get("matcher", "")
            if tool is not None and tool not in matcher.split("|"):
                continue
            for handler in group["hooks"]:
                if "/hooks/memman/" in handler["command"]:
                    return handler["command"]
        raise AssertionError(f"no memman hook for {event} {tool}")

    def fire(self, data: dict, *, env=None):
        """Run the registered command for ``data``'s event like Claude Code does."""
        event = data["hook_event_name"]
        tool = data.get("tool_name") if event == "PreToolUse" else None
        # The hook's own environment: no MEMMAN_* (memman.env supplies them), bare PATH.
        started = time.monotonic()
        proc = subprocess.run(["sh", "-c", self.command(event, tool)], input=json.dumps(data),
                              capture_output=True, text=True, env={**self.base_env, **(env or {})},
                              timeout=60, cwd=self.tmp)
        assert time.monotonic() - started < 5  # hooks run on every prompt and turn
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert len(proc.stdout) < CAP
        return proc.stdout


def as_json(stdout: str) -> dict:
    assert stdout.lstrip().startswith("{"), stdout
    return json.loads(stdout)


@pytest.fixture
def host(tmp_path, memman_bin) -> Host:
    return Host(tmp_path, memman_bin)


def test_install_registers_executable_commands_with_current_matchers(host):
    matchers = set()
    for event, groups in host.settings["hooks"].items():
        for group in groups:
            matchers.add((event, group.get("matcher", "")))
            for handler in group["hooks"]:
                path = handler["command"]
                assert handler["type"] == "command"
                assert os.path.isabs(path) and os.access(path, os.X_OK)
                assert stat.S_ISREG(os.lstat(path).st_mode)  # a copy, not a symlink
    assert matchers == {("SessionStart", ""), ("UserPromptSubmit", ""), ("Stop", ""),
                        ("PreCompact", ""), ("PreToolUse", "Agent|Task"),
                        ("PreToolUse", "ExitPlanMode")}
    conf = (host.hooks_dir / "memman.env").read_text()
    assert f"MEMMAN_BIN={host.install_report['memman_bin']}" in conf
    assert os.path.isabs(host.install_report["memman_bin"])


def test_session_start_primes_with_status_and_guide(host):
    out = host.fire(payload("SessionStart"))
    assert not out.lstrip().startswith("{")  # plain text: added to Claude's context
    first = out.splitlines()[0]
    assert first == "[memman] Memory active (0 memories, 0 edges) in store default."
    assert GUIDE.strip() in out
    assert "was just compacted" not in out


def test_stop_blocks_once_per_turn(host):
    first = as_json(host.fire(payload("Stop")))
    assert first["decision"] == "block"
    assert first["reason"].startswith("[memman] Memory check")
    assert set(first) == {"decision", "reason"}
    # the second Stop of the same turn is silent, and so is any continuation
    assert host.fire(payload("Stop")) == ""
    assert host.fire(payload("Stop", stop_hook_active=True)) == ""
    # another session has its own gate
    assert as_json(host.fire(payload("Stop", session="other-session")))["decision"] == "block"
    # a new prompt re-arms it
    prompt = host.fire(payload("UserPromptSubmit"))
    assert prompt.startswith("[memman]") and "memman recall" in prompt
    assert len(prompt) < 600
    assert as_json(host.fire(payload("Stop")))["decision"] == "block"
    assert host.fire(payload("Stop")) == ""


def test_stop_never_blocks_when_stop_hook_active(host):
    assert host.fire(payload("Stop", stop_hook_active=True)) == ""
    assert not (host.data / "hook_state" / "stop" / SESSION).exists()
    assert as_json(host.fire(payload("Stop")))["decision"] == "block"


@pytest.mark.parametrize("tool,needle", [("Agent", "delegating"), ("Task", "delegating"),
                                         ("ExitPlanMode", "plan")])
def test_pre_tool_use_reaches_claude_through_additional_context(host, tool, needle):
    tool_input = ({"plan": "1. Add retries\n2. Test", "planFilePath": "/repo/.claude/plan.md"}
                  if tool == "ExitPlanMode" else None)
    data = payload("PreToolUse", tool_name=tool)
    if tool_input:
        data["tool_input"] = tool_input
    out = as_json(host.fire(data))
    specific = out["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert needle in specific["additionalContext"] and "memman" in specific["additionalContext"]
    assert "permissionDecision" not in specific and "decision" not in out


def test_compaction_hint_uses_the_recorded_trigger_once(host):
    assert host.fire(payload("PreCompact", trigger="manual", custom_instructions="keep it")) == ""
    marker = host.data / "hook_state" / "compact" / f"{SESSION}.json"
    assert json.loads(marker.read_text())["trigger"] == "manual"
    out = host.fire(payload("SessionStart", source="compact"))
    assert "compacted (manual)" in out and "memman recall" in out
    assert GUIDE.strip() in out and len(out) < CAP
    assert not marker.exists()  # read once, then deleted
    # without a recorded trigger the hint still comes, as auto
    assert "compacted (auto)" in host.fire(payload("SessionStart", source="compact"))
    # PreCompact never blocks compaction
    assert host.fire(payload("PreCompact")) == ""


def test_hooks_with_memman_missing(host):
    conf = host.hooks_dir / "memman.env"
    conf.write_text(f"MEMMAN_BIN={host.tmp / 'nowhere' / 'memman'}\n"
                    f"MEMMAN_DATA_DIR={host.data}\n")
    out = host.fire(payload("SessionStart"))
    assert out.startswith("[memman] memman is not installed") and len(out.splitlines()) == 1
    for data in (payload("UserPromptSubmit"), payload("Stop"), payload("PreCompact"),
                 payload("PreToolUse"), payload("PreToolUse", tool_name="ExitPlanMode")):
        assert host.fire(data) == ""
    conf.unlink()  # no memman.env at all
    for data in (payload("SessionStart"), payload("Stop")):
        host.fire(data)


def test_hooks_with_memman_failing(host):
    broken = host.tmp / "broken-memman"
    broken.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n"
                      "echo '{\"decision\": \"blo'\nexit 1\n")
    broken.chmod(0o755)
    (host.hooks_dir / "memman.env").write_text(f"MEMMAN_BIN={broken}\n")
    out = host.fire(payload("SessionStart"))
    assert out.startswith("[memman] memman at") and "{" not in out
    for data in (payload("UserPromptSubmit"), payload("Stop"), payload("PreCompact"),
                 payload("PreToolUse")):
        assert host.fire(data) == ""


def test_hooks_with_a_corrupt_store(host):
    db = host.data / "data" / "default" / "memman.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(os.urandom(8192))
    out = host.fire(payload("SessionStart"))
    first = out.splitlines()[0]
    assert first.startswith("[memman] Warning: store default could not be read")
    assert GUIDE.strip() in out
    assert as_json(host.fire(payload("Stop")))["decision"] == "block"
    assert host.fire(payload("UserPromptSubmit")).startswith("[memman]")


@pytest.mark.parametrize("raw", ["", "not json", "[]", '{"session_id": 42}'])
def test_hooks_with_garbage_stdin(host, raw):
    for event in ("SessionStart", "UserPromptSubmit", "Stop", "PreCompact"):
        proc = subprocess.run(["sh", "-c", host.command(event)], input=raw, text=True,
                              capture_output=True, env=host.base_env, timeout=60)
        assert proc.returncode == 0 and "Traceback" not in proc.stdout + proc.stderr


def test_environment_data_dir_wins_over_the_baked_one(host, tmp_path):
    other = tmp_path / "other-data"
    host.fire(payload("Stop"), env={"MEMMAN_DATA_DIR": str(other)})
    assert (other / "hook_state" / "stop" / SESSION).exists()
    assert not (host.data / "hook_state" / "stop" / SESSION).exists()


@pytest.fixture
def store_of_500(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import recall_latency
    finally:
        sys.path.remove(str(ROOT / "bench"))
    root = tmp_path / "memman"
    recall_latency.build_store(root, 500, random.Random(3))
    return root


def test_prime_size_with_500_memories(store_of_500, tmp_path, memman_bin):
    host = Host(tmp_path, memman_bin)
    proc = host.memman("prime")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("[memman] Memory active (500 memories, ")
    assert len(proc.stdout) < CAP
    # the largest hook output: SessionStart after a compaction
    host.fire(payload("PreCompact", trigger="manual"))
    out = host.fire(payload("SessionStart", source="compact"))
    assert out.startswith("[memman] Memory active (500 memories, ")
    assert len(out) < CAP
    assert len(out.encode("utf-8")) < CAP
