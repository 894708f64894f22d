"""doctor's data-dir checks (queue, scheduler, env, hooks), --probe, and status health."""
import json
import os
import sqlite3

import pytest

from memman import clock
from tests.doctor_helpers import find, seed_store, sql
from tests.fakes.chat import completion
from tests.fakes.loopback import Reply


@pytest.fixture
def doctor(run):
    def invoke(*args):
        result = run("doctor", *args)
        assert result.exit_code in (0, 1), result
        return result.exit_code, result.json

    return invoke


def queue_sql(root, statement, args=()):
    conn = sqlite3.connect(str(root / "queue.db"), isolation_level=None)
    try:
        conn.execute(statement, args)
    finally:
        conn.close()


def test_fresh_data_dir_is_healthy_and_offline(doctor, data_dir):
    code, out = doctor()
    assert code == 0 and out["overall"] == "warn"  # only: no scheduler installed
    assert [c["name"] for c in out["checks"] if c["status"] != "pass"] == ["scheduler_state"]
    assert find(out, "zero_config")["detail"].startswith("in use")
    assert "llm_probe" not in {c["name"] for c in out["checks"]}
    assert out["counts"]["fail"] == 0 and out["stores"] == []


def test_queue_schema_pass_and_fail(ok, doctor, data_dir):
    ok("remember", "The deploy runs on Tuesdays")
    assert find(doctor()[1], "queue_schema")["status"] == "pass"
    queue_sql(data_dir, "DROP TABLE worker_runs")
    code, out = doctor()
    check = find(out, "queue_schema")
    assert check["status"] == "fail" and "worker_runs missing" in check["detail"]
    assert code == 1


def test_queue_backlog_pass_warn_and_fail(ok, doctor, data_dir):
    ok("remember", "The deploy runs on Tuesdays")
    assert find(doctor()[1], "queue_backlog")["status"] == "pass"
    clock.shift(3700)
    check = find(doctor()[1], "queue_backlog")
    assert check["status"] == "warn" and "oldest 3700 s" in check["detail"]
    clock.shift(86400)
    check = find(doctor()[1], "queue_backlog")
    assert check["status"] == "fail" and check["remedy"].endswith("scheduler drain")
    ok("scheduler", "drain")
    queue_sql(data_dir, "UPDATE queue SET status = 'failed', last_error = 'boom'")
    check = find(doctor()[1], "queue_backlog")
    assert check["status"] == "warn" and "1 failed" in check["detail"]
    queue_sql(data_dir, "UPDATE queue SET status = 'stale'")
    check = find(doctor()[1], "queue_backlog")
    assert check["status"] == "warn" and "retry --all-stale" in check["remedy"]


def test_queue_backlog_fails_on_depth(ok, doctor):
    for i in range(100):
        ok("remember", f"Fact number {i} about the deploy pipeline")
    check = find(doctor()[1], "queue_backlog")
    assert check["status"] == "fail" and check["detail"].startswith("100 waiting")


def test_drain_heartbeat_pass_and_warn(ok, doctor, data_dir):
    ok("remember", "The deploy runs on Tuesdays")
    ok("scheduler", "drain")
    assert find(doctor()[1], "drain_heartbeat")["status"] == "pass"
    queue_sql(data_dir, "UPDATE worker_runs SET finished_at = NULL")
    assert find(doctor()[1], "drain_heartbeat")["status"] == "pass"  # still fresh
    clock.shift(301)
    check = find(doctor()[1], "drain_heartbeat")
    assert check["status"] == "warn" and "has not reported for" in check["detail"]


@pytest.fixture
def serve_kind(monkeypatch):
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "serve")


def test_scheduler_state_and_heartbeat_in_serve_mode(serve_kind, ok, doctor, data_dir):
    check = find(doctor()[1], "scheduler_state")
    assert check["status"] == "warn" and check["remedy"].endswith("scheduler install")
    ok("scheduler", "install", "--interval", "60")
    out = doctor()[1]
    assert find(out, "scheduler_state")["status"] == "pass"
    check = find(out, "scheduler_heartbeat")  # recorded, but no serve process
    assert check["status"] == "fail" and "no 'memman scheduler serve'" in check["detail"]
    (data_dir / "scheduler.serve_interval").write_text("60\n")
    check = find(doctor()[1], "scheduler_heartbeat")
    assert check["status"] == "fail" and "never run" in check["detail"]
    ok("scheduler", "drain")
    assert find(doctor()[1], "scheduler_heartbeat")["status"] == "pass"
    clock.shift(150)
    assert find(doctor()[1], "scheduler_heartbeat")["status"] == "warn"
    clock.shift(60)
    assert find(doctor()[1], "scheduler_heartbeat")["status"] == "fail"
    ok("scheduler", "stop")
    out = doctor()[1]
    assert find(out, "scheduler_heartbeat")["status"] == "pass"
    check = find(out, "scheduler_state")
    assert check["status"] == "warn" and check["remedy"].endswith("scheduler start")


def test_scheduler_heartbeat_fails_when_the_last_drain_errored(serve_kind, ok, doctor,
                                                               data_dir):
    ok("scheduler", "install")
    (data_dir / "scheduler.serve_interval").write_text("60\n")
    ok("scheduler", "drain")
    queue_sql(data_dir, "UPDATE worker_runs SET error = 'RuntimeError: disk full'")
    check = find(doctor()[1], "scheduler_heartbeat")
    assert check["status"] == "fail" and "disk full" in check["detail"]


def test_scheduler_unit_pass_warn_and_fail(monkeypatch, ok, doctor, tmp_path):
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "systemd")
    assert find(doctor()[1], "scheduler_unit")["status"] == "pass"  # not applicable
    ok("scheduler", "install")
    check = find(doctor()[1], "scheduler_unit")
    assert check["status"] == "pass" and check["detail"].startswith("systemd unit runs /")
    service = tmp_path / "home" / ".config" / "systemd" / "user" / "memman-enrich.service"
    text = service.read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    binary = exec_line.split("=", 1)[1].split()[0]
    other = tmp_path / "other-memman"
    other.write_text("#!/bin/sh\n")
    os.chmod(other, 0o755)
    service.write_text(text.replace(binary, str(other)))
    check = find(doctor()[1], "scheduler_unit")
    assert check["status"] == "warn" and str(other) in check["detail"]
    service.write_text(text.replace(binary, str(tmp_path / "gone" / "memman")))
    check = find(doctor()[1], "scheduler_unit")
    assert check["status"] == "fail" and check["remedy"].endswith("scheduler install")


def test_env_completeness_pass_and_warn(ok, doctor, data_dir):
    assert find(doctor()[1], "env_completeness")["status"] == "pass"
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "voyage")
    check = find(doctor()[1], "env_completeness")
    assert check["status"] == "warn" and "MEMMAN_VOYAGE_API_KEY" in check["detail"]
    assert "config set MEMMAN_VOYAGE_API_KEY" in check["remedy"]
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "builtin")
    with open(data_dir / "env", "a") as fh:
        fh.write("MEMMAN_LLM_MODEL_FASTT=x\n")
    check = find(doctor()[1], "env_completeness")
    assert check["status"] == "warn" and "did you mean MEMMAN_LLM_MODEL_FAST" in check["detail"]


def test_env_values_and_per_store_keys_pass_and_fail(ok, doctor, data_dir):
    out = doctor()[1]
    assert find(out, "env_values")["status"] == "pass"
    assert find(out, "per_store_keys")["status"] == "pass"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "env", "a") as fh:
        fh.write("MEMMAN_INTERVAL=soon\nMEMMAN_SURFACE_work=desktop\n")
    code, out = doctor()
    assert find(out, "env_values")["status"] == "fail"
    check = find(out, "per_store_keys")
    assert check["status"] == "fail" and "MEMMAN_SURFACE_work" in check["detail"]
    assert code == 1


def test_per_store_keys_fail_for_postgres_and_leftover_sqlite_files(data_dir, doctor):
    seed_store(data_dir, 2, store="moved")
    assert find(doctor()[1], "stale_post_migrate_source")["status"] == "pass"
    (data_dir / "env").write_text("MEMMAN_BACKEND_moved=postgres\n")
    os.chmod(data_dir / "env", 0o600)
    out = doctor()[1]
    check = find(out, "per_store_keys")
    assert check["status"] == "fail" and "only the SQLite backend" in check["detail"]
    assert check["remedy"].endswith("config set MEMMAN_BACKEND_moved sqlite")
    assert find(out, "stale_post_migrate_source")["status"] == "warn"
    assert out["stores"] == []


def test_env_permissions_pass_warn_and_fail(ok, doctor, data_dir):
    ok("config", "set", "MEMMAN_LOG_LEVEL", "INFO")
    check = find(doctor()[1], "env_permissions")
    assert check["status"] == "pass" and "env 0600" in check["detail"]
    os.chmod(data_dir, 0o750)
    check = find(doctor()[1], "env_permissions")
    assert check["status"] == "warn" and check["remedy"] == f"chmod 700 {data_dir}"
    os.chmod(data_dir, 0o700)
    os.chmod(data_dir / "env", 0o644)
    code, out = doctor()
    check = find(out, "env_permissions")
    assert check["status"] == "fail" and "0644" in check["detail"]
    assert check["remedy"] == f"chmod 600 {data_dir / 'env'}" and code == 1


def test_zero_config_pass_and_warn(ok, doctor):
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", "https://llm.example.com/v1")
    check = find(doctor()[1], "zero_config")
    assert check["status"] == "warn" and "MEMMAN_LLM_API_KEY" in check["remedy"]
    ok("config", "set", "MEMMAN_LLM_API_KEY", "sk-test-1234567890")
    check = find(doctor()[1], "zero_config")
    assert check["status"] == "pass" and check["detail"].startswith("off: LLM worker")


def test_hook_files_pass_warn_and_fail_for_claude_code(ok, doctor, tmp_path):
    claude = tmp_path / "home" / ".claude"
    claude.mkdir(parents=True)
    ok("install", "--target", "claude-code", "--no-wizard")
    check = find(doctor()[1], "hook_files", host="claude-code")
    assert check["status"] == "pass"
    settings = json.loads((claude / "settings.json").read_text())
    settings["hooks"].pop("PreCompact")
    (claude / "settings.json").write_text(json.dumps(settings))
    check = find(doctor()[1], "hook_files", host="claude-code")
    assert check["status"] == "warn" and "5 of 6" in check["detail"]
    os.chmod(claude / "hooks" / "memman" / "stop.sh", 0o644)
    code, out = doctor()
    check = find(out, "hook_files", host="claude-code")
    assert check["status"] == "fail" and "stop.sh" in check["detail"]
    assert check["remedy"].endswith("install --target claude-code") and code == 1


def test_hook_files_fail_when_the_hooks_point_at_a_missing_binary(ok, doctor, tmp_path):
    (tmp_path / "home" / ".claude").mkdir(parents=True)
    ok("install", "--target", "claude-code", "--no-wizard")
    conf = tmp_path / "home" / ".claude" / "hooks" / "memman" / "memman.env"
    conf.write_text(f"MEMMAN_BIN={tmp_path / 'nowhere'}\n")
    check = find(doctor()[1], "hook_files", host="claude-code")
    assert check["status"] == "fail" and "nowhere" in check["detail"]


def test_hook_files_pass_and_fail_for_openclaw(ok, doctor, tmp_path):
    state = tmp_path / "home" / ".openclaw"
    state.mkdir(parents=True)
    ok("install", "--target", "openclaw", "--no-wizard")
    assert find(doctor()[1], "hook_files", host="openclaw")["status"] == "pass"
    (state / "hooks" / "memman-prime" / "handler.js").unlink()
    check = find(doctor()[1], "hook_files", host="openclaw")
    assert check["status"] == "fail" and "handler.js" in check["detail"]


def test_probe_skips_in_zero_config(doctor):
    code, out = doctor("--probe")
    assert find(out, "llm_probe")["detail"] == "zero-config: nothing to probe"
    assert find(out, "embed_probe")["detail"] == "zero-config: nothing to probe"
    assert out["probed"] is True and code == 0


def test_probe_calls_the_llm_and_embedder_once_each(loopback, ok, doctor, data_dir):
    endpoint = loopback.url + "/v1"
    loopback.route("POST", "/v1/chat/completions", lambda req: completion("ok"))
    loopback.route("POST", "/v1/embeddings", lambda req: {
        "data": [{"index": 0, "embedding": [0.1, 0.2, 0.3]}], "model": "m"})
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", endpoint)
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", loopback.url)
    ok("config", "set", "MEMMAN_OPENAI_EMBED_API_KEY", "sk-test-embed-1234")
    code, out = doctor()
    assert loopback.requests == []  # no network without --probe
    code, out = doctor("--probe")
    assert find(out, "llm_probe")["status"] == "pass"
    check = find(out, "embed_probe")
    assert check["status"] == "pass" and "3-dim" in check["detail"]
    paths = sorted(r.path for r in loopback.requests)
    assert paths == ["/v1/chat/completions", "/v1/embeddings"]
    chat = next(r for r in loopback.requests if r.path.endswith("completions")).json
    assert chat["messages"][-1]["content"] == "Reply with exactly: ok"
    assert chat["model"] == "anthropic/claude-haiku-4.5"


def test_probe_failures_fail_the_run(loopback, ok, doctor):
    loopback.route("POST", "/v1/chat/completions",
                   Reply(401, {"error": {"message": "bad key"}}))
    loopback.route("POST", "/v1/embeddings", Reply(400, {"error": {"message": "no model"}}))
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", loopback.url + "/v1")
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", loopback.url)
    code, out = doctor("--probe")
    assert find(out, "llm_probe")["status"] == "fail"
    assert "bad key" in find(out, "llm_probe")["detail"]
    assert find(out, "embed_probe")["status"] == "fail" and code == 1


def test_status_health_ok_warn_and_fail(ok, data_dir):
    seed_store(data_dir, 3)
    out = ok("status")
    assert out["health"] == {"status": "ok", "issues": []}
    assert "total_insights" in out and out["total_insights"] == 3
    sql(data_dir, "INSERT INTO meta (key, value) VALUES ('embed_swap_state', 'cutover')")
    health = ok("status")["health"]
    assert health["status"] == "warn"
    assert [i["name"] for i in health["issues"]] == ["no_stale_swap_meta"]
    sql(data_dir, "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, "
        "created_at) VALUES ('a', 'b', 'semantic', 0.5, '{}', 'x')", fk=False)
    health = ok("status")["health"]
    assert health["status"] == "fail"
    assert {i["name"] for i in health["issues"]} == {"no_stale_swap_meta", "dangling_edges"}


def test_status_health_reports_the_queue_and_text_line(ok, run, data_dir):
    seed_store(data_dir, 2)
    ok("remember", "The deploy runs on Tuesdays")
    clock.shift(90000)
    health = ok("status")["health"]
    assert health["status"] == "fail" and health["issues"][0]["name"] == "queue_backlog"
    text = run("status", "--text").stdout
    assert "health     fail" in text and "run 'memman doctor'" in text
