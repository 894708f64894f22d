"""The installed OpenClaw plugin (index.js) and internal hook (handler.js) run under a
real node with a stub OpenClaw API, the way the gateway loads them: a registration
object with ``api.on(...)`` for the plugin, an ``agent:bootstrap`` event with a mutable
``bootstrapFiles`` list for the hook. The gateway's minimal PATH is simulated, so the
hook can only find memman through the absolute path baked in at install."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from memman.integrations import InstallContext, openclaw

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the OpenClaw plugin and hook cannot be loaded")

HARNESS = r"""
import { pathToFileURL } from "node:url";

const [mode, target, payloadJson] = process.argv.slice(2);
const payload = JSON.parse(payloadJson || "{}");
const mod = await import(pathToFileURL(target).href);

if (mode === "plugin") {
  const handlers = {};
  const options = [];
  const api = {
    id: "memman", name: "memman", source: target, config: {},
    pluginConfig: payload.pluginConfig,
    logger: { info() {}, warn() {}, error() {}, debug() {} },
    runtime: {},
    on(name, handler, opts) { (handlers[name] ||= []).push(handler); options.push(opts ?? null); },
    registerHook() { throw new Error("memman's plugin registers no internal hooks"); },
    registerTool() {}, registerService() {}, registerCli() {},
  };
  const entry = mod.default;
  if (typeof entry === "function") await entry(api);
  else await (entry.register ?? entry.activate)(api);
  const results = [];
  for (const handler of handlers.before_prompt_build ?? []) {
    const result = await handler(
      { prompt: "what database do we use?", messages: [], ...(payload.event ?? {}) },
      { agentId: "main", sessionKey: "agent:main:main", sessionId: "s1", runId: "r1",
        workspaceDir: "/tmp/ws", trigger: "user",
        inputProvenance: { kind: "external_user" } });
    results.push(result === undefined ? "<undefined>" : result);
  }
  console.log(JSON.stringify({ hooks: Object.keys(handlers), results,
                               entryKeys: Object.keys(entry) }));
} else {
  const handler = mod.default;
  const files = payload.files ?? [];
  const event = {
    type: payload.type ?? "agent", action: payload.action ?? "bootstrap",
    sessionKey: "agent:main:main", timestamp: new Date(), messages: [],
    context: { workspaceDir: "/tmp/ws", sessionKey: "agent:main:main", cfg: {},
               bootstrapFiles: files },
  };
  const started = Date.now();
  for (let i = 0; i < (payload.times ?? 1); i++) await handler(event);
  console.log(JSON.stringify({ files: event.context.bootstrapFiles, messages: event.messages,
                               ms: Date.now() - started }));
}
"""

PRIME_TEXT = ("[memman] Memory active (3 insights, 2 edges).\n\n"
              "# Using memman: your long-term memory\n\nRecall first.\n")


@pytest.fixture(autouse=True)
def no_openclaw_env(monkeypatch):
    for key in ("OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME",
                "OPENCLAW_PROFILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "home"
    (path / ".openclaw").mkdir(parents=True)
    return path


@pytest.fixture
def harness(tmp_path) -> Path:
    path = tmp_path / "harness.mjs"
    path.write_text(HARNESS)
    return path


def stub_memman(folder: Path, body: str) -> Path:
    """A fake memman (not on PATH) that logs its calls next to itself."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    script = folder / "memman"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s|%s|%s|" "$*" "$MEMMAN_DATA_DIR" "$MEMMAN_HOST" >> "{log}"\n'
        f'cat >> "{log}"\n'
        f'echo >> "{log}"\n'
        + body)
    script.chmod(0o755)
    return script


def install(home: Path, memman_bin: str) -> Path:
    ctx = InstallContext(home=home, data_dir=home / ".memman", memman_bin=memman_bin)
    openclaw.install(ctx)
    return home / ".openclaw"


def run_node(harness: Path, mode: str, target: Path, payload: dict | None = None,
             timeout: float = 30) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(target.parents[3])}
    proc = subprocess.run([NODE, str(harness), mode, str(target), json.dumps(payload or {})],
                          capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- plugin

@pytest.fixture
def plugin(home, tmp_path) -> Path:
    state = install(home, str(tmp_path / "venv" / "bin" / "memman"))
    return state / "extensions" / "memman" / "index.js"


def test_plugin_registers_before_prompt_build_with_both_lines(harness, plugin, tmp_path):
    out = run_node(harness, "plugin", plugin, {"pluginConfig": {}})
    assert out["hooks"] == ["before_prompt_build"]
    assert "register" in out["entryKeys"]
    (result,) = out["results"]
    assert set(result) == {"prependContext"}
    text = result["prependContext"]
    memman = str(tmp_path / "venv" / "bin" / "memman")
    assert f'{memman} recall "' in text and f'{memman} remember "' in text
    assert text.startswith("[memman]") and len(text) < 600


@pytest.mark.parametrize("config, recall, remember", [
    (None, True, True),
    ({"remind": True, "nudge": True}, True, True),
    ({"remind": False}, False, True),
    ({"nudge": False}, True, False),
])
def test_plugin_options(harness, plugin, config, recall, remember):
    (result,) = run_node(harness, "plugin", plugin, {"pluginConfig": config})["results"]
    text = result["prependContext"]
    assert (" recall " in text) is recall
    assert (" remember " in text) is remember


def test_plugin_with_both_options_off_adds_nothing(harness, plugin):
    out = run_node(harness, "plugin", plugin, {"pluginConfig": {"remind": False, "nudge": False}})
    assert out["results"] == ["<undefined>"]


def test_plugin_reads_per_turn_config_from_newer_hosts(harness, plugin):
    out = run_node(harness, "plugin", plugin,
                   {"pluginConfig": {}, "event": {"context": {"pluginConfig": {"nudge": False}}}})
    (result,) = out["results"]
    assert " remember " not in result["prependContext"]


def test_plugin_without_install_record_falls_back_to_path(harness, plugin):
    (plugin.parent / "memman-bin.json").unlink()
    (result,) = run_node(harness, "plugin", plugin, {})["results"]
    assert 'memman recall "' in result["prependContext"]


# ---------------------------------------------------------------- internal hook

def test_hook_injects_prime_output_as_a_bootstrap_file(harness, home, tmp_path):
    stub = stub_memman(tmp_path / "bin", f"cat <<'EOF'\n{PRIME_TEXT}EOF\n")
    state = install(home, str(stub))
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert out["files"] == [{"name": "MEMMAN.md", "path": "memman/MEMMAN.md",
                             "content": PRIME_TEXT.strip(), "missing": False}]
    assert out["messages"] == []
    # called by absolute path (it is not on the PATH), with `prime`, the data dir, an empty stdin
    call = (tmp_path / "bin" / "calls.log").read_text()
    assert call == f"prime|{home / '.memman'}|openclaw|\n"


def test_hook_keeps_other_bootstrap_files_and_does_not_duplicate(harness, home, tmp_path):
    stub = stub_memman(tmp_path / "bin", f"cat <<'EOF'\n{PRIME_TEXT}EOF\n")
    state = install(home, str(stub))
    agents = {"name": "AGENTS.md", "path": "/tmp/ws/AGENTS.md", "content": "x", "missing": False}
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js",
                   {"files": [agents], "times": 2})
    assert [f["name"] for f in out["files"]] == ["AGENTS.md", "MEMMAN.md"]
    assert out["files"][0] == agents


def test_hook_accepts_a_json_envelope(harness, home, tmp_path):
    envelope = json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                                  "additionalContext": "[memman] ready"}})
    stub = stub_memman(tmp_path / "bin", f"echo '{envelope}'\n")
    state = install(home, str(stub))
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert out["files"][0]["content"] == "[memman] ready"


def test_hook_is_silent_when_memman_is_missing(harness, home, tmp_path):
    state = install(home, str(tmp_path / "gone" / "memman"))
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert out["files"] == [] and out["messages"] == []


def test_hook_is_silent_when_memman_fails(harness, home, tmp_path):
    stub = stub_memman(tmp_path / "bin", "echo 'Error: boom' >&2\nexit 1\n")
    state = install(home, str(stub))
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert out["files"] == []


def test_hook_gives_up_after_three_seconds(harness, home, tmp_path):
    stub = stub_memman(tmp_path / "bin", "exec sleep 20\n")
    state = install(home, str(stub))
    started = time.monotonic()
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert out["files"] == []
    assert 2500 <= out["ms"] < 6000 and time.monotonic() - started < 15


@pytest.mark.parametrize("event", [{"type": "command", "action": "new"},
                                   {"type": "agent", "action": "end"},
                                   {"type": "gateway", "action": "startup"}])
def test_hook_ignores_other_events(harness, home, tmp_path, event):
    stub = stub_memman(tmp_path / "bin", f"cat <<'EOF'\n{PRIME_TEXT}EOF\n")
    state = install(home, str(stub))
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js", event)
    assert out["files"] == []
    assert not (tmp_path / "bin" / "calls.log").exists()


def test_hook_with_the_real_memman(harness, home, memman_bin, env):
    probe = subprocess.run([memman_bin, "prime", "--help"], capture_output=True, text=True,
                           env=env, timeout=60)
    if probe.returncode != 0:
        pytest.skip("this build has no `memman prime` yet")
    state = install(home, memman_bin)
    out = run_node(harness, "hook", state / "hooks" / "memman-prime" / "handler.js")
    assert len(out["files"]) == 1 and out["files"][0]["content"].strip()
    assert os.path.isabs(json.loads(
        (state / "hooks" / "memman-prime" / "memman-bin.json").read_text())["memman"])
