"""memman install/uninstall for OpenClaw: files copied (never symlinked) into the state
dir, openclaw.json (JSON5) merged as text, idempotent, refused when unparseable, undone
exactly by uninstall."""
import json
import os
import re
import stat
from pathlib import Path

import pytest

from memman.errors import MemmanError
from memman.integrations import InstallContext, module_for, openclaw
from memman.integrations.json5edit import loads as json5_loads

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets" / "openclaw"

USER_CONFIG = """\
// OpenClaw configuration (hand-edited)
{
  /* where agents work */
  agents: {
    defaults: { workspace: '~/.openclaw/workspace', model: "anthropic/claude-sonnet-5" },
  },
  gateway: { port: 18789, mode: "local", },
  plugins: {
    entries: {
      "voice-call": { enabled: true, config: { provider: "twilio" } }, // keep this one
      discord: { enabled: false },
    },
  },
  channels: { telegram: { botToken: "123:abc", allowFrom: ["+15555550123",], }, },
}
"""


@pytest.fixture(autouse=True)
def no_openclaw_env(monkeypatch):
    for key in ("OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME",
                "OPENCLAW_PROFILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def home() -> Path:
    path = Path(os.environ["HOME"])
    (path / ".openclaw").mkdir(parents=True)
    return path


@pytest.fixture
def ctx(home, tmp_path) -> InstallContext:
    return InstallContext(home=home, data_dir=home / ".memman",
                          memman_bin=str(tmp_path / "venv" / "bin" / "memman"))


def state(home: Path) -> Path:
    return home / ".openclaw"


def config(home: Path) -> Path:
    return state(home) / "openclaw.json"


def snapshot(root: Path) -> dict:
    """Every path under root with its bytes, mode and mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path)] = (path.read_bytes() if path.is_file() else None, st.st_mode,
                          st.st_mtime_ns)
    return out


def without_backups(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if ".memman-backup-" not in k}


def installed_files(home: Path) -> list[Path]:
    dirs = [state(home) / "extensions" / "memman", state(home) / "hooks" / "memman-prime",
            state(home) / "skills" / "memman"]
    return [p for d in dirs for p in sorted(d.rglob("*"))]


# ---------------------------------------------------------------- detect, interface

def test_module_interface():
    module = module_for("openclaw")
    assert module is openclaw and module.NAME == "openclaw"
    assert callable(module.detect) and callable(module.install) and callable(module.uninstall)


def test_detect(tmp_path, monkeypatch):
    home = Path(os.environ["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    c = InstallContext(home=home, data_dir=home / ".memman", memman_bin="/x/memman")
    assert not openclaw.detect(c)
    (home / ".openclaw").mkdir()
    assert openclaw.detect(c)
    (home / ".openclaw").rmdir()
    exe = empty / "openclaw"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert openclaw.detect(c)


def test_state_dir_follows_openclaw_env(ctx, tmp_path, monkeypatch):
    other = tmp_path / "oc-state"
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(other))
    openclaw.install(ctx)
    assert (other / "extensions" / "memman" / "index.js").is_file()
    assert json5_loads((other / "openclaw.json").read_text())["hooks"]["internal"]["enabled"]
    assert not (state(ctx.home) / "extensions").exists()


# ---------------------------------------------------------------- files

def test_install_copies_plugin_hook_and_skill(ctx, home):
    result = openclaw.install(ctx)
    assert result["changed"] and result["target"] == "openclaw"
    ext = state(home) / "extensions" / "memman"
    hook = state(home) / "hooks" / "memman-prime"
    skill = state(home) / "skills" / "memman"
    for rel in ("openclaw.plugin.json", "package.json", "index.js"):
        assert (ext / rel).read_bytes() == (ASSETS / rel).read_bytes()
    for rel in ("HOOK.md", "handler.js", "package.json"):
        assert (hook / rel).read_bytes() == (ASSETS / "hooks" / "memman-prime" / rel).read_bytes()
    runtime = {"memman": ctx.memman_bin, "data_dir": str(ctx.data_dir), "command": ctx.memman_bin}
    assert json.loads((ext / "memman-bin.json").read_text()) == runtime
    assert json.loads((hook / "memman-bin.json").read_text()) == runtime
    text = (skill / "SKILL.md").read_text()
    assert "{{MEMMAN}}" not in text
    assert f"{ctx.memman_bin} recall" in text and f"{ctx.memman_bin} remember" in text


def test_installed_files_pass_openclaws_boundary_checks(ctx, home):
    openclaw.install(ctx)
    files = installed_files(home)
    assert files
    for path in files:
        folder = next(d for d in (state(home) / "extensions" / "memman",
                                  state(home) / "hooks" / "memman-prime",
                                  state(home) / "skills" / "memman") if d in path.parents)
        assert not path.is_symlink(), path
        assert Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder)), path
        st = path.stat()
        assert not st.st_mode & stat.S_IWOTH, f"{path} is world-writable"
        assert st.st_uid == os.getuid()
    for folder in (state(home) / "extensions" / "memman", state(home) / "hooks" / "memman-prime",
                   state(home) / "skills" / "memman"):
        assert not folder.stat().st_mode & stat.S_IWOTH


def test_data_dir_other_than_the_default_is_passed_on(home, tmp_path):
    c = InstallContext(home=home, data_dir=tmp_path / "my data",
                       memman_bin="/opt/memman/bin/memman")
    openclaw.install(c)
    runtime = json.loads((state(home) / "extensions" / "memman" / "memman-bin.json").read_text())
    assert runtime["data_dir"] == str(tmp_path / "my data")
    assert runtime["command"] == f"/opt/memman/bin/memman --data-dir '{tmp_path / 'my data'}'"
    skill = (state(home) / "skills" / "memman" / "SKILL.md").read_text()
    assert f"{runtime['command']} recall" in skill


def test_memman_016_symlinks_are_replaced_by_copies(ctx, home, tmp_path):
    site = tmp_path / "site-packages" / "memman"
    site.mkdir(parents=True)
    links = {
        state(home) / "extensions" / "memman" / "index.js": site / "index.js",
        state(home) / "hooks" / "memman-prime" / "handler.js": site / "handler.js",
        state(home) / "skills" / "memman" / "SKILL.md": site / "SKILL.md",
    }
    for link, target in links.items():
        target.write_text("old 0.16 file\n")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    openclaw.install(ctx)
    for link, target in links.items():
        assert not link.is_symlink() and link.read_text() != "old 0.16 file\n"
        assert target.read_text() == "old 0.16 file\n"      # the target is never written


# ---------------------------------------------------------------- openclaw.json

def test_missing_config_is_created_private_and_plain_json(ctx, home):
    openclaw.install(ctx)
    path = config(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "plugins": {"entries": {"memman": {"enabled": True,
                                           "config": {"remind": True, "nudge": True}}}},
        "hooks": {"internal": {"enabled": True, "entries": {"memman-prime": {"enabled": True}}}},
    }


def test_install_twice_changes_nothing(ctx, home):
    config(home).write_text(USER_CONFIG)
    first = openclaw.install(ctx)
    assert first["changed"] and first["config"]["changed"]
    before = snapshot(home)
    second = openclaw.install(ctx)
    assert second["changed"] is False and second["files"] == []
    assert second["config"] == {"path": str(config(home)), "changed": False, "backup": None}
    assert snapshot(home) == before         # not a byte, mode or mtime moved; no new backup


def test_json5_config_keeps_comments_keys_and_other_plugins(ctx, home):
    config(home).write_text(USER_CONFIG)
    result = openclaw.install(ctx)
    text = config(home).read_text()
    # Every line of the user's file is still there, in the same order.
    lines = iter(text.splitlines())
    for line in USER_CONFIG.splitlines():
        assert any(line == got for got in lines), f"lost: {line!r}"
    data = json5_loads(text)
    want = json5_loads(USER_CONFIG)
    want["plugins"]["entries"]["memman"] = {"enabled": True,
                                           "config": {"remind": True, "nudge": True}}
    want["hooks"] = {"internal": {"enabled": True,
                                  "entries": {"memman-prime": {"enabled": True}}}}
    assert data == want
    # written in the file's own style: unquoted keys, trailing commas
    assert re.search(r"^      memman: \{$", text, re.M)
    assert '"memman-prime": {' in text
    backup = Path(result["config"]["backup"])
    assert backup.read_text() == USER_CONFIG


def test_strict_json_config_stays_strict_json(ctx, home):
    original = json.dumps({"gateway": {"port": 18789},
                           "plugins": {"entries": {"slack": {"enabled": True}}}}, indent=2) + "\n"
    config(home).write_text(original)
    openclaw.install(ctx)
    data = json.loads(config(home).read_text())      # plain json still reads it
    assert data["plugins"]["entries"]["slack"] == {"enabled": True}
    assert data["plugins"]["entries"]["memman"]["enabled"] is True
    openclaw.uninstall(ctx)
    assert config(home).read_text() == original


@pytest.mark.parametrize("broken", [
    "{ plugins: { entries: { } ",
    "{ plugins: { entries: { memman: } } }",
    "{ 'unterminated: 1 }",
    "not json at all",
])
def test_unparseable_config_is_refused_and_untouched(ctx, home, broken):
    config(home).write_text(broken)
    before = snapshot(home)
    with pytest.raises(MemmanError) as err:
        openclaw.install(ctx)
    message = str(err.value)
    assert "\n" not in message and "cannot parse" in message and str(config(home)) in message
    assert "untouched" in message
    assert snapshot(home) == before          # no plugin files either: refused before any write


@pytest.mark.parametrize("odd", ["[1, 2]", "{ hooks: true }", "{ plugins: { entries: [] } }"])
def test_config_memman_cannot_merge_into_is_refused(ctx, home, odd):
    config(home).write_text(odd)
    before = snapshot(home)
    with pytest.raises(MemmanError) as err:
        openclaw.install(ctx)
    assert "\n" not in str(err.value) and "untouched" in str(err.value)
    assert snapshot(home) == before


def test_existing_memman_entry_keeps_the_users_options(ctx, home):
    config(home).write_text('{ plugins: { entries: { memman: { enabled: false, '
                            'config: { remind: false } } } } }\n')
    openclaw.install(ctx)
    entry = json5_loads(config(home).read_text())["plugins"]["entries"]["memman"]
    assert entry == {"enabled": True, "config": {"remind": False}}


def test_written_plugin_config_matches_the_manifest_schema(ctx, home):
    openclaw.install(ctx)
    schema = json.loads((ASSETS / "openclaw.plugin.json").read_text())["configSchema"]
    written = json5_loads(config(home).read_text())["plugins"]["entries"]["memman"]["config"]
    assert set(written) <= set(schema["properties"])
    for key, value in written.items():
        assert schema["properties"][key]["type"] == "boolean" and isinstance(value, bool)


def test_allow_list_gets_memman_and_loses_it_again(ctx, home):
    original = '{\n  "plugins": {\n    "allow": ["discord", "voice-call"]\n  }\n}\n'
    config(home).write_text(original)
    openclaw.install(ctx)
    assert json5_loads(config(home).read_text())["plugins"]["allow"] == [
        "discord", "voice-call", "memman"]
    openclaw.install(ctx)
    assert json5_loads(config(home).read_text())["plugins"]["allow"].count("memman") == 1
    openclaw.uninstall(ctx)
    assert config(home).read_text() == original


def test_warns_when_plugins_are_off_or_memman_denied(ctx, home):
    config(home).write_text('{ plugins: { enabled: false, deny: ["memman"] } }')
    result = openclaw.install(ctx)
    assert any("plugins.enabled is false" in w for w in result["warnings"])
    assert any("plugins.deny" in w for w in result["warnings"])
    data = json5_loads(config(home).read_text())["plugins"]
    assert data["enabled"] is False and data["deny"] == ["memman"]


# ---------------------------------------------------------------- uninstall

def test_uninstall_restores_the_users_file_byte_for_byte(ctx, home):
    config(home).write_text(USER_CONFIG)
    before = without_backups(snapshot(home))
    openclaw.install(ctx)
    result = openclaw.uninstall(ctx)
    assert result["changed"] and result["kept"] == []
    assert config(home).read_text() == USER_CONFIG
    after = without_backups(snapshot(home))
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}


@pytest.mark.parametrize("original", ["{}", "{}\n", "", "\n", "// nothing yet\n{ }\n",
                                      '{ "a": 1 }', "{a: 1,}\r\n"])
def test_uninstall_restores_small_files_exactly(ctx, home, original):
    config(home).write_text(original, newline="")
    openclaw.install(ctx)
    assert json5_loads(config(home).read_text())["plugins"]["entries"]["memman"]["enabled"]
    openclaw.uninstall(ctx)
    assert config(home).read_bytes() == original.encode()


def test_uninstall_without_a_prior_config_leaves_nothing(ctx, home):
    before = snapshot(home)
    openclaw.install(ctx)
    openclaw.uninstall(ctx)
    # config, files and the folders install made are gone (folder mtimes moved, naturally)
    assert {k: v[:2] for k, v in snapshot(home).items()} == {k: v[:2] for k, v in before.items()}


def test_uninstall_restores_internal_hooks_switched_off(ctx, home):
    original = "{\n  hooks: {\n    internal: {\n      enabled: false,\n    },\n  },\n}\n"
    config(home).write_text(original)
    openclaw.install(ctx)
    assert json5_loads(config(home).read_text())["hooks"]["internal"]["enabled"] is True
    openclaw.uninstall(ctx)
    assert config(home).read_text() == original


def test_uninstall_keeps_internal_hooks_other_hooks_rely_on(ctx, home):
    openclaw.install(ctx)
    # The user enables another internal hook after installing memman.
    text = config(home).read_text().replace(
        '"memman-prime": {', '"session-memory": {\n          "enabled": true\n        },\n'
        '        "memman-prime": {', 1)
    config(home).write_text(text)
    result = openclaw.uninstall(ctx)
    data = json5_loads(config(home).read_text())
    assert data["hooks"]["internal"] == {"enabled": True,
                                         "entries": {"session-memory": {"enabled": True}}}
    assert "memman" not in data.get("plugins", {}).get("entries", {})
    assert any("hooks.internal.enabled" in n for n in result["notes"])


def test_uninstall_leaves_preexisting_internal_hooks_alone(ctx, home):
    original = ('{\n  "hooks": {\n    "internal": {\n      "enabled": true,\n      "entries": {\n'
                '        "boot-md": {\n          "enabled": true\n        }\n      }\n    }\n'
                '  }\n}\n')
    config(home).write_text(original)
    openclaw.install(ctx)
    openclaw.uninstall(ctx)
    assert config(home).read_text() == original


def test_uninstall_keeps_files_it_did_not_install(ctx, home):
    openclaw.install(ctx)
    mine = state(home) / "skills" / "memman" / "notes.md"
    mine.write_text("user notes\n")
    result = openclaw.uninstall(ctx)
    assert mine.read_text() == "user notes\n"
    assert not (state(home) / "skills" / "memman" / "SKILL.md").exists()
    assert str(mine.parent) in result["kept"]
    assert not (state(home) / "extensions" / "memman").exists()


def test_uninstall_refuses_an_unparseable_config(ctx, home):
    openclaw.install(ctx)
    config(home).write_text("{ broken")
    before = snapshot(home)
    with pytest.raises(MemmanError):
        openclaw.uninstall(ctx)
    assert snapshot(home) == before


def test_uninstall_when_nothing_is_installed(ctx, home):
    result = openclaw.uninstall(ctx)
    assert result["changed"] is False and result["files"] == []


# ---------------------------------------------------------------- shipped asset lint

def _frontmatter(path: Path) -> dict:
    text = path.read_text()
    assert text.startswith("---\n")
    head = text[4:text.index("\n---\n", 4)]
    out = {}
    for line in head.splitlines():
        assert not line.startswith((" ", "\t")), f"{path}: multi-line frontmatter: {line!r}"
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def test_manifest_and_package_follow_the_contract():
    manifest = json.loads((ASSETS / "openclaw.plugin.json").read_text())
    assert manifest["id"] == "memman" == openclaw.PLUGIN_ID
    schema = manifest["configSchema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"remind", "nudge"}
    for prop in schema["properties"].values():
        assert prop == {**prop, "type": "boolean", "default": True}
    assert "hooks" not in manifest and "entry" not in manifest
    package = json.loads((ASSETS / "package.json").read_text())
    assert package["type"] == "module"
    for entry in package["openclaw"]["extensions"]:
        target = (ASSETS / entry).resolve()
        assert target.is_file() and target.is_relative_to(ASSETS.resolve())
    hook_package = json.loads((ASSETS / "hooks" / "memman-prime" / "package.json").read_text())
    assert hook_package["type"] == "module" and "openclaw" not in hook_package


def test_hook_md_and_skill_md_frontmatter():
    hook = _frontmatter(ASSETS / "hooks" / "memman-prime" / "HOOK.md")
    assert hook["name"] == "memman-prime"
    meta = json.loads(hook["metadata"])["openclaw"]
    assert meta["events"] == ["agent:bootstrap"]
    assert "requires" not in meta            # the gateway's PATH may not hold memman
    skill = _frontmatter(ASSETS / "skills" / "memman" / "SKILL.md")
    assert re.fullmatch(r"[a-z0-9-]{1,64}", skill["name"]) and skill["name"] == "memman"
    description = json.loads(skill["description"])
    assert 0 < len(description) <= 1024
    assert "requires" not in json.loads(skill["metadata"])["openclaw"]


def test_skill_names_only_real_commands():
    from memman.cli.main import cli

    text = (ASSETS / "skills" / "memman" / "SKILL.md").read_text()
    commands = set(re.findall(r"\{\{MEMMAN\}\} ([a-z]+)", text))
    assert commands and commands <= set(cli.list_commands(None))


# ---------------------------------------------------------------- preflight and the CLI

def test_preflight_refuses_without_writing(ctx, home):
    config(home).write_text("{ plugins: ")
    before = snapshot(home)
    with pytest.raises(MemmanError):
        openclaw.preflight(ctx)
    assert snapshot(home) == before
    config(home).write_text(USER_CONFIG)
    before = snapshot(home)
    openclaw.preflight(ctx)
    assert snapshot(home) == before


def test_second_install_reports_no_changes(ctx, home):
    openclaw.install(ctx)
    again = InstallContext(home=ctx.home, data_dir=ctx.data_dir, memman_bin=ctx.memman_bin)
    openclaw.install(again)
    assert again.changes == []
    openclaw.uninstall(again)
    twice = InstallContext(home=ctx.home, data_dir=ctx.data_dir, memman_bin=ctx.memman_bin)
    assert openclaw.uninstall(twice)["changed"] is False and twice.changes == []


def test_cli_install_and_uninstall(run, home):
    config(home).write_text(USER_CONFIG)
    first = run("install", "--target", "openclaw", "--no-wizard")
    assert first.exit_code == 0, first
    (entry,) = first.json["installed"]
    assert entry["target"] == "openclaw" and entry["changes"]
    runtime = json.loads((state(home) / "hooks" / "memman-prime" / "memman-bin.json").read_text())
    assert os.path.isabs(runtime["memman"])
    second = run("install", "--target", "openclaw", "--no-wizard")
    assert second.json["installed"][0]["changes"] == []
    gone = run("uninstall", "--target", "openclaw")
    assert gone.exit_code == 0, gone
    assert config(home).read_text() == USER_CONFIG
    assert not (state(home) / "extensions" / "memman").exists()


def test_cli_refuses_an_unparseable_config(run, home):
    config(home).write_text("{ plugins: { ")
    result = run("install", "--target", "openclaw", "--no-wizard")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot parse ") and result.stderr.count("\n") == 1
    assert config(home).read_text() == "{ plugins: { "
    assert not (state(home) / "extensions").exists()
