"""Claude Code integration: install/uninstall into a temp HOME, the settings.json merge,
the shipped skill and guide, ``memman prime`` / ``guide``, the install wizard and flags,
and the hook logic in-process (whole-process hook runs are in e2e/test_claude_hooks.py)."""
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest

from memman.cli import hook as hookmod
from memman.cli.context import App
from memman.integrations import TARGETS
from memman.integrations import claude_code as cc

ROOT = Path(__file__).resolve().parents[1]

USER_SETTINGS = {
    "model": "opus",
    "statusLine": {"type": "command", "command": "~/bin/status-line"},
    "someFutureKey": [1, {"nested": True}],
    "hooks": {
        "SessionStart": [{"hooks": [{"type": "command", "command": "echo hello"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command",
                                                       "command": "~/bin/guard.sh",
                                                       "timeout": 5}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        "Notification": [{"hooks": [{"type": "command", "command": "say hi"}]}],
    },
    "permissions": {
        "allow": ["Bash(git status)", "Bash(npm run test *)"],
        "deny": ["Read(./.env)"],
        "defaultMode": "default",
    },
}


@pytest.fixture(autouse=True)
def no_claude_config_dir(monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "home"
    (path / ".claude").mkdir(parents=True)
    return path


@pytest.fixture
def settings_file(home) -> Path:
    return home / ".claude" / "settings.json"


def backups(settings_file: Path) -> list[Path]:
    return sorted(settings_file.parent.glob("settings.json.memman-backup-*"))


def our_commands(settings: dict) -> dict:
    """event -> [(matcher, command)] for our handlers."""
    out = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for handler in group["hooks"]:
                if cc.is_ours(handler):
                    out.setdefault(event, []).append((group.get("matcher", ""),
                                                      handler["command"]))
    return out


def install(run, *extra):
    return run("install", "--target", "claude-code", "--no-wizard", *extra)


# -- install / uninstall ----------------------------------------------------------------


def test_install_twice_then_uninstall_keeps_user_settings(run, ok, home, settings_file,
                                                          data_dir):
    original_text = json.dumps(USER_SETTINGS, indent=4) + "\n"
    settings_file.write_text(original_text)
    ok("remember", "The billing service is owned by Alice")

    first = install(run)
    assert first.exit_code == 0, first
    out = first.json
    (entry,) = out["installed"]
    assert entry["target"] == "claude-code" and entry["changes"]
    assert out["data_dir"] == str(data_dir) and os.path.isabs(out["memman_bin"])
    assert out["mode"] == "heuristic"

    settings = json.loads(settings_file.read_text())
    # everything the user had is still there
    for key in ("model", "statusLine", "someFutureKey"):
        assert settings[key] == USER_SETTINGS[key]
    for event, groups in USER_SETTINGS["hooks"].items():
        for group in groups:
            assert group in settings["hooks"][event]
    assert settings["permissions"]["deny"] == ["Read(./.env)"]
    assert settings["permissions"]["defaultMode"] == "default"
    assert settings["permissions"]["allow"][:2] == ["Bash(git status)", "Bash(npm run test *)"]
    # ours, with the current matcher syntax
    ours = our_commands(settings)
    assert {e: [m for m, _ in v] for e, v in ours.items()} == {
        "SessionStart": [""], "UserPromptSubmit": [""], "Stop": [""], "PreCompact": [""],
        "PreToolUse": ["Agent|Task", "ExitPlanMode"]}
    for handlers in ours.values():
        for _, command in handlers:
            assert os.path.isabs(command) and os.access(command, os.X_OK)
            assert not os.path.islink(command)
    assert set(cc.PERMISSIONS) <= set(settings["permissions"]["allow"])
    assert settings["env"] == {"MEMMAN_DATA_DIR": str(data_dir)}  # not the default dir
    hooks_dir = home / ".claude" / "hooks" / "memman"
    for script in cc.SCRIPTS:
        copied = hooks_dir / script
        assert copied.read_text() == (ROOT / "hooks" / script).read_text()
        assert stat.S_IMODE(copied.stat().st_mode) == 0o755
    conf = (hooks_dir / "memman.env").read_text()
    assert f"MEMMAN_BIN={out['memman_bin']}\n" in conf
    assert f"MEMMAN_DATA_DIR={data_dir}\n" in conf
    skill = home / ".claude" / "skills" / "memman" / "SKILL.md"
    assert skill.read_text() == (ROOT / "assets" / "SKILL.md").read_text()
    (backup,) = backups(settings_file)
    assert backup.read_text() == original_text

    # a second install changes nothing, not even a new backup
    before = settings_file.read_bytes()
    second = install(run)
    assert second.exit_code == 0, second
    assert second.json["installed"][0]["changes"] == []
    assert settings_file.read_bytes() == before
    assert len(backups(settings_file)) == 1

    # uninstall: exactly our additions go
    gone = run("uninstall", "--target", "claude-code")
    assert gone.exit_code == 0, gone
    assert gone.json["uninstalled"][0]["changes"]
    assert json.loads(settings_file.read_text()) == USER_SETTINGS
    assert not hooks_dir.exists() and not skill.parent.exists()
    assert not (home / ".claude" / "hooks").exists()
    assert (data_dir / "queue.db").exists()  # memories and queue stay
    assert ok("scheduler", "queue", "list")  # still readable
    # uninstalling again is a no-op
    again = run("uninstall", "--target", "claude-code")
    assert again.exit_code == 0 and again.json["uninstalled"][0]["changes"] == []


def test_install_creates_missing_settings_and_default_data_dir_adds_no_env(
        run, home, settings_file, monkeypatch):
    monkeypatch.delenv("MEMMAN_DATA_DIR")  # the default, ~/.memman
    result = install(run)
    assert result.exit_code == 0, result
    assert result.json["data_dir"] == str(home / ".memman")
    settings = json.loads(settings_file.read_text())
    assert set(settings) == {"hooks", "permissions"}
    assert backups(settings_file) == []
    assert run("uninstall").exit_code == 0
    assert json.loads(settings_file.read_text()) == {}


@pytest.mark.parametrize("text", [
    '{"hooks": {"Stop": [}',                             # broken
    '{\n  // a comment\n  "model": "opus",\n}\n',        # JSON5, not JSON
    '[1, 2, 3]\n',                                       # not an object
    '{"hooks": []}\n',                                   # wrong shape where we edit
    '{"permissions": {"allow": "Bash"}}\n',
    '{"hooks": {"PreToolUse": {"matcher": "Agent"}}}\n',
])
def test_unusable_settings_are_refused_untouched(run, home, settings_file, text):
    settings_file.write_text(text)
    result = install(run)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "settings.json" in lines[0]
    assert settings_file.read_text() == text
    assert backups(settings_file) == []
    assert not (home / ".claude" / "hooks").exists()
    assert not (home / ".claude" / "skills").exists()
    again = run("uninstall", "--target", "claude-code")
    assert again.exit_code == 1 and settings_file.read_text() == text


def test_install_replaces_memman_016_entries(run, home, settings_file, tmp_path):
    old = {"hooks": {
        "SessionStart": [{"hooks": [{"type": "command",
                                     "command": "~/.claude/hooks/memman/prime.sh"}]}],
        "PreToolUse": [
            {"matcher": "Task", "hooks": [{"type": "command",
                                           "command": "~/.claude/hooks/memman/task_recall.sh"}]},
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]},
        ],
    }}
    settings_file.write_text(json.dumps(old))
    hooks_dir = home / ".claude" / "hooks" / "memman"
    hooks_dir.mkdir(parents=True)
    target = tmp_path / "site-packages-prime.sh"
    target.write_text("#!/bin/sh\necho old\n")
    (hooks_dir / "prime.sh").symlink_to(target)

    assert install(run).exit_code == 0
    settings = json.loads(settings_file.read_text())
    ours = our_commands(settings)
    assert [m for m, _ in ours["PreToolUse"]] == ["Agent|Task", "ExitPlanMode"]
    assert len(ours["SessionStart"]) == 1 and "~" not in ours["SessionStart"][0][1]
    assert {"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]} \
        in settings["hooks"]["PreToolUse"]
    assert not (hooks_dir / "prime.sh").is_symlink()
    assert target.read_text() == "#!/bin/sh\necho old\n"  # the link's target is untouched


def test_claude_config_dir_is_honoured(run, tmp_path, monkeypatch):
    custom = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(custom))
    custom.mkdir()
    result = run("install", "--no-wizard")
    assert [e["target"] for e in result.json["installed"]] == ["claude-code"]
    assert (custom / "hooks" / "memman" / "stop.sh").exists()
    assert (custom / "settings.json").exists()


def test_without_target_only_detected_hosts_and_unavailable_modules_are_skipped(
        run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no `claude` on PATH
    result = run("install", "--no-wizard")
    assert result.exit_code == 0, result
    out = result.json
    assert out["installed"] == []
    reasons = {s["target"]: s["reason"] for s in out["skipped"]}
    assert reasons["claude-code"] == "not detected on this machine"
    assert set(reasons) == set(TARGETS)
    assert not (tmp_path / "home" / ".claude").exists()


def test_unreachable_postgres_is_refused_before_anything_is_written(run, home, data_dir):
    result = install(run, "--backend", "postgres",
                     "--pg-dsn", "postgresql://u:hunter2@nosuchhost.invalid/db")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: cannot connect to Postgres")
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (home / ".claude" / "settings.json").exists()
    assert not (data_dir / "env").exists()


def test_flags_write_validated_env_keys(run, home, data_dir):
    result = install(run, "--llm-endpoint", "none", "--embed-provider", "builtin",
                     "--backend", "sqlite")
    assert result.exit_code == 0, result
    env = (data_dir / "env").read_text()
    assert "MEMMAN_LLM_ENDPOINT=none" in env
    assert "MEMMAN_EMBED_PROVIDER=builtin" in env
    assert "MEMMAN_DEFAULT_BACKEND=sqlite" in env
    assert result.json["config"]["MEMMAN_LLM_ENDPOINT"] == "none"


def test_invalid_flag_changes_nothing(run, home, data_dir):
    result = install(run, "--embed-provider", "magic")
    assert result.exit_code == 1
    assert "MEMMAN_EMBED_PROVIDER" in result.stderr
    assert not (home / ".claude" / "settings.json").exists()
    assert not (data_dir / "env").exists()


# -- the wizard ----------------------------------------------------------------------------


def test_non_tty_never_prompts(run, home, data_dir):
    result = run("install", "--target", "claude-code")  # no --no-wizard, stdin not a TTY
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert not (data_dir / "env").exists()


def test_wizard_skipping_everything_keeps_zero_config(run, home, data_dir, monkeypatch):
    from memman.cli import install as installmod

    monkeypatch.setattr(installmod, "_stdin_is_tty", lambda: True)
    result = run("install", "--target", "claude-code", input="\n\n\n\n")
    assert result.exit_code == 0, result
    assert "LLM endpoint" in result.stderr and "Embedding provider" in result.stderr
    assert result.json["mode"] == "heuristic" and result.json["config"] == {}
    assert "MEMMAN_" not in ((data_dir / "env").read_text() if (data_dir / "env").exists()
                             else "")


def test_wizard_writes_validated_masked_keys(run, home, data_dir, monkeypatch):
    from memman.cli import install as installmod

    monkeypatch.setattr(installmod, "_stdin_is_tty", lambda: True)
    answers = "\n".join([
        "not a url",                       # rejected, asked again
        "http://localhost:8080/v1",
        "sk-llm-secret-123456",
        "voyage",
        "pa-voyage-secret-987654",
    ]) + "\n"
    result = run("install", "--target", "claude-code", input=answers)
    assert result.exit_code == 0, result
    assert "must be an http(s) URL" in result.stderr
    env = (data_dir / "env").read_text()
    assert "MEMMAN_LLM_ENDPOINT=http://localhost:8080/v1" in env
    assert "MEMMAN_LLM_API_KEY=sk-llm-secret-123456" in env
    assert "MEMMAN_EMBED_PROVIDER=voyage" in env
    assert "MEMMAN_VOYAGE_API_KEY=pa-voyage-secret-987654" in env
    assert oct(stat.S_IMODE((data_dir / "env").stat().st_mode)) == "0o600"
    out = result.json
    assert out["mode"] == "llm"
    assert out["config"]["MEMMAN_LLM_API_KEY"] == "****3456"
    for secret in ("sk-llm-secret-123456", "pa-voyage-secret-987654"):
        assert secret not in result.stdout and secret not in result.stderr


def test_wizard_off_with_no_wizard(run, home, data_dir, monkeypatch):
    from memman.cli import install as installmod

    monkeypatch.setattr(installmod, "_stdin_is_tty", lambda: True)
    result = run("install", "--target", "claude-code", "--no-wizard")
    assert result.exit_code == 0 and result.stderr == ""


# -- prime and guide -------------------------------------------------------------------------


GUIDE = (ROOT / "assets" / "guide.md").read_text()


def test_guide_prints_the_guide(run):
    result = run("guide")
    assert result.exit_code == 0 and result.stdout == GUIDE


def test_prime_status_line_and_guide(run, ok, remember_drained):
    remember_drained("The deploy pipeline uses GitHub Actions and Terraform")
    remember_drained("Alice prefers squash merges for the billing repository")
    result = run("prime")
    assert result.exit_code == 0
    first, rest = result.stdout.split("\n", 1)
    assert re.fullmatch(r"\[memman\] Memory active \(2 memories, \d+ edges\) in store default\.",
                        first)
    assert GUIDE.strip() in rest
    assert len(result.stdout) < 10_000


def test_prime_honours_store_and_data_dir(run, ok, tmp_path):
    ok("store", "create", "work")
    result = run("--store", "work", "prime")
    assert result.stdout.startswith("[memman] Memory active (0 memories, 0 edges) in store work.")
    other = tmp_path / "elsewhere"
    result = run("--data-dir", str(other), "prime")
    assert result.exit_code == 0 and "in store default." in result.stdout
    assert not other.exists()  # prime creates nothing


@pytest.mark.parametrize("breakage", ["corrupt", "active", "store-option", "postgres"])
def test_prime_never_fails(run, ok, data_dir, breakage):
    args = ["prime"]
    if breakage == "corrupt":
        db = data_dir / "data" / "default" / "memman.db"
        db.parent.mkdir(parents=True)
        db.write_bytes(b"this is not a database" * 100)
    elif breakage == "active":
        data_dir.mkdir(parents=True)
        (data_dir / "active").write_text("bad name!\n")
    elif breakage == "store-option":
        args = ["--store", "no/such", "prime"]
    else:
        ok("config", "set", "MEMMAN_DEFAULT_BACKEND", "postgres")
    result = run(*args)
    assert result.exit_code == 0, result
    first, rest = result.stdout.split("\n", 1)
    assert first.startswith("[memman] Warning:") and len(first) < 400
    assert GUIDE.strip() in rest
    assert "Traceback" not in result.stdout + result.stderr


def test_prime_mentions_paused_writes(run, ok):
    ok("scheduler", "stop")
    assert "Writes are paused" in run("prime").stdout


# -- the skill -------------------------------------------------------------------------------


def frontmatter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        assert re.fullmatch(r"[a-z-]+", key), line
        meta[key] = value.strip()
    return meta, body


def command_paths():
    import click

    from memman.cli.main import cli

    ctx = click.Context(cli)
    paths = set()

    def walk(group, prefix):
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            paths.add(prefix + (name,))
            if isinstance(cmd, click.Group):
                walk(cmd, prefix + (name,))

    walk(cli, ())
    return paths


def test_skill_frontmatter_and_commands():
    text = (ROOT / "assets" / "SKILL.md").read_text()
    meta, body = frontmatter(text)
    assert re.fullmatch(r"[a-z0-9-]{1,64}", meta["name"]) and meta["name"] == "memman"
    assert 0 < len(meta["description"]) <= 1024
    assert ":" not in meta["description"]  # keeps it a plain YAML scalar
    assert len(text) < 8000
    paths = command_paths()
    groups = {p[0] for p in paths if len(p) == 2}
    code = "\n".join(re.findall(r"```\n(.*?)```", body, re.S)
                     + re.findall(r"`([^`\n]+)`", body + GUIDE)
                     + re.findall(r"^    (memman .*)$", GUIDE, re.M))
    found = re.findall(r"memman (?:--store \S+ )?([a-z]+)(?: ([a-z]+))?", code)
    assert len(found) > 10
    for first, second in found:
        assert (first,) in paths, first
        if first in groups:
            assert (first, second) in paths, (first, second)
    for word in ("secret", "--source agent", "self-contained", "repository"):
        assert word in body.lower() or word in body


# -- permissions -----------------------------------------------------------------------------


def rule_matches(rule: str, command: str) -> bool:
    """Claude Code's wildcard rule semantics (``*`` anything; a trailing `` *`` also
    matches the bare prefix)."""
    m = re.fullmatch(r"Bash\((.*)\)", rule)
    pattern = m.group(1)
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    if pattern.endswith(" *"):
        regex = regex[: -len(re.escape(" ") + ".*")] + "(?: .*)?"
    return re.fullmatch(regex, command) is not None


def test_permission_rules_cover_agent_commands():
    for rule in cc.PERMISSIONS:
        assert re.fullmatch(r"Bash\(memman [^()]+ \*\)", rule), rule
        assert ":*" not in rule
    allowed = [
        'memman recall "billing owner" --limit 5',
        'memman remember "Alice owns billing" --cat fact',
        'memman replace 1234 "new text"',
        "memman forget 1234",
        "memman insights show 1234",
        "memman graph related 1234",
        "memman status",
        "memman guide",
        'memman --store global recall "deploy"',
        'memman --store work remember "x"',
    ]
    for command in allowed:
        assert any(rule_matches(r, command) for r in cc.PERMISSIONS), command
    for command in ("memman uninstall", "memman store remove work --yes",
                    "memman config set MEMMAN_LLM_API_KEY x", "memmanx recall y"):
        assert not any(rule_matches(r, command) for r in cc.PERMISSIONS), command


# -- hook logic in-process --------------------------------------------------------------------


def test_session_keys_are_safe_file_names():
    assert hookmod.session_key({"session_id": "abc-123_x.y"}) == "abc-123_x.y"
    for bad in ("../../etc/passwd", "a/b", "..", ".hidden", "x" * 300, "id with space"):
        key = hookmod.session_key({"session_id": bad})
        assert re.fullmatch(r"h-[0-9a-f]{32}", key), bad
    for none in ({}, {"session_id": ""}, {"session_id": 5}, {"session_id": None}):
        assert hookmod.session_key(none) is None


@pytest.mark.parametrize("raw", ["", "not json", "[1,2]", '"text"', "{", "\x00\xff"])
def test_payload_reader_tolerates_garbage(raw):
    assert hookmod.read_payload(io.StringIO(raw)) == {}


def test_stop_without_session_relies_on_stop_hook_active(data_dir):
    app = App(data_dir_option=str(data_dir))
    out = json.loads(hookmod.run(app, "stop", {"stop_hook_active": False}))
    assert out["decision"] == "block" and out["reason"]
    assert hookmod.run(app, "stop", {"stop_hook_active": True}) == ""


def test_stop_is_silent_when_writes_are_paused(data_dir):
    from memman.scheduler import state

    app = App(data_dir_option=str(data_dir))
    state.write(app.datadir, state.STOPPED)
    assert hookmod.run(app, "stop", {"session_id": "s1", "stop_hook_active": False}) == ""


def test_prime_sweeps_old_stop_markers(data_dir):
    app = App(data_dir_option=str(data_dir))
    assert hookmod.run(app, "stop", {"session_id": "old"})
    assert hookmod.run(app, "stop", {"session_id": "new"})
    marker = data_dir / "hook_state" / "stop" / "old"
    past = marker.stat().st_mtime - 3 * 3600
    os.utime(marker, (past, past))
    hookmod.run(app, "prime", {"source": "startup", "session_id": "x"})
    assert not marker.exists()
    assert (data_dir / "hook_state" / "stop" / "new").exists()


def test_hook_outputs_stay_under_the_cap(data_dir):
    app = App(data_dir_option=str(data_dir))
    for event in hookmod.EVENTS:
        assert len(hookmod.run(app, event, {"session_id": "s", "source": "compact"})) < 10_000


def test_symlinked_settings_are_edited_in_place(run, home, settings_file, tmp_path):
    real = tmp_path / "dotfiles" / "claude-settings.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"model": "opus"}))
    settings_file.symlink_to(real)
    assert install(run).exit_code == 0
    assert settings_file.is_symlink()
    assert our_commands(json.loads(real.read_text()))
    assert run("uninstall", "--target", "claude-code").exit_code == 0
    assert settings_file.is_symlink() and json.loads(real.read_text()) == {"model": "opus"}


def test_strip_removes_only_ours_and_prunes_what_it_emptied(tmp_path):
    from memman.integrations import InstallContext

    ctx = InstallContext(home=tmp_path, data_dir=tmp_path / ".memman", memman_bin="/x/memman")
    ours = cc.command_for(ctx, "stop.sh")
    mixed = {"hooks": [{"type": "command", "command": "notify"},
                       {"type": "command", "command": ours}]}
    current = {
        "hooks": {
            "Stop": [mixed],
            "PostToolUse": [],                       # the user's own empty list stays
            "SessionStart": [{"hooks": [{"type": "command",
                                         "command": "bash ~/.claude/hooks/memman/prime.sh"}]}],
        },
        "permissions": {"allow": list(cc.PERMISSIONS)},
    }
    merged = cc.merge_settings(current, ctx)
    assert cc.merge_settings(merged, ctx) == merged
    stripped = cc.strip_settings(merged, ctx)
    assert stripped == {"hooks": {"Stop": [{"hooks": [{"type": "command",
                                                       "command": "notify"}]}],
                                  "PostToolUse": []}}
    assert not cc.is_ours({"type": "command", "command": "~/bin/memman-stop.sh"})
    assert not cc.is_ours({"type": "command", "command": "/opt/hooks/memman/other.sh"})
    assert cc.is_ours({"type": "command", "command": "'/a b/.claude/hooks/memman/stop.sh'"})
