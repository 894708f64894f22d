"""Tests for ``memman config``: show, get, set, unset; validation and secret redaction."""
import os
import stat

import pytest

from memman.config import envfile

FAKE_KEY = "sk-or-v1-4f1c2b9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7cWXYZ"
FAKE_PASSWORD = "Pg-S3cret-Passw0rd-991"
FAKE_DSN = f"postgresql://memman:{FAKE_PASSWORD}@db.internal:5432/memman"


def _env(data_dir) -> dict[str, str]:
    return envfile.read(data_dir / "env")


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


# -- set ---------------------------------------------------------------------------

def test_set_writes_env_file_with_mode_0600(ok, data_dir):
    out = ok("config", "set", "MEMMAN_EMBED_PROVIDER", "voyage")
    assert out == {"action": "set", "key": "MEMMAN_EMBED_PROVIDER", "value": "voyage"}
    assert _env(data_dir) == {"MEMMAN_EMBED_PROVIDER": "voyage"}
    assert stat.S_IMODE((data_dir / "env").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_set_writes_normalised_value(ok, data_dir):
    assert ok("config", "set", "MEMMAN_LLM_ENDPOINT", "NONE")["value"] == "none"
    assert ok("config", "set", "MEMMAN_OLLAMA_HOST", "http://gpu:11434/")["value"] == \
        "http://gpu:11434"
    assert ok("config", "set", "MEMMAN_RERANK_ENABLED", "TRUE")["value"] == "true"
    assert _env(data_dir) == {"MEMMAN_LLM_ENDPOINT": "none",
                              "MEMMAN_OLLAMA_HOST": "http://gpu:11434",
                              "MEMMAN_RERANK_ENABLED": "true"}


def test_set_replaces_existing_value_and_keeps_comments(ok, data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "env").write_text("# my notes\nMEMMAN_INTERVAL=30\nMEMMAN_LOG_LEVEL=INFO\n")
    ok("config", "set", "MEMMAN_INTERVAL", "120")
    assert (data_dir / "env").read_text() == \
        "# my notes\nMEMMAN_INTERVAL=120\nMEMMAN_LOG_LEVEL=INFO\n"


def test_set_value_with_spaces_round_trips(ok, data_dir):
    ok("config", "set", "MEMMAN_LLM_MODEL_FAST", "my model name")
    assert ok("config", "get", "MEMMAN_LLM_MODEL_FAST")["value"] == "my model name"


def test_set_per_store_key(ok, data_dir):
    ok("config", "set", "MEMMAN_SURFACE_my-store", "claw")
    assert _env(data_dir) == {"MEMMAN_SURFACE_my-store": "claw"}
    assert ok("config", "get", "MEMMAN_SURFACE_my-store") == {
        "key": "MEMMAN_SURFACE_my-store", "value": "claw", "source": "env file"}


@pytest.mark.parametrize("key", ["MEMMAN_NOT_A_KEY", "MEMMAN_EMBED_PROVIDR", "MEMMAN_BACKEND",
                                 "MEMMAN_POSTGRES_DSN", "MEMMAN_DATA_DIR", "MEMMAN_STORE",
                                 "MEMMAN_BACKEND_-bad"])
def test_set_unknown_or_invalid_key_is_one_line_error(run, data_dir, key):
    result = run("config", "set", key, "sqlite")
    _one_error_line(result)
    assert result.stdout == ""
    assert not data_dir.exists()


def test_set_unknown_key_suggests_close_match(run):
    line = _one_error_line(run("config", "set", "MEMMAN_EMBED_PROVIDR", "voyage"))
    assert "did you mean MEMMAN_EMBED_PROVIDER?" in line


@pytest.mark.parametrize("key, value", [
    ("MEMMAN_EMBED_PROVIDER", "nope"),
    ("MEMMAN_INTERVAL", "-5"),
    ("MEMMAN_RERANK_ENABLED", "perhaps"),
    ("MEMMAN_OLLAMA_HOST", "localhost"),
    ("MEMMAN_AUTO_SEMANTIC_THRESHOLD_work", "1"),
    ("MEMMAN_BACKEND_work", "mysql"),
])
def test_set_invalid_value_names_key_and_writes_nothing(run, ok, data_dir, key, value):
    ok("config", "set", "MEMMAN_LOG_LEVEL", "INFO")
    before = (data_dir / "env").read_bytes()
    result = run("config", "set", "--", key, value)  # "--": "-5" is a value, not an option
    line = _one_error_line(result)
    assert key in line
    assert result.stdout == ""
    assert (data_dir / "env").read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith(".env")) == []


def test_set_invalid_value_on_fresh_dir_creates_nothing(run, data_dir):
    _one_error_line(run("config", "set", "MEMMAN_EMBED_PROVIDER", "nope"))
    assert not data_dir.exists()


def test_set_value_with_newline_cannot_inject_a_key(run, data_dir):
    result = run("config", "set", "MEMMAN_LLM_MODEL_FAST", "m\nMEMMAN_LLM_ENDPOINT=none")
    assert "MEMMAN_LLM_ENDPOINT" not in _env(data_dir)
    if result.exit_code != 0:
        _one_error_line(result)


# -- get ---------------------------------------------------------------------------

def test_get_default(ok, data_dir):
    assert ok("config", "get", "MEMMAN_EMBED_PROVIDER") == {
        "key": "MEMMAN_EMBED_PROVIDER", "value": "builtin", "source": "default"}
    assert not data_dir.exists()


def test_get_env_file_value(ok):
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "ollama")
    assert ok("config", "get", "MEMMAN_EMBED_PROVIDER") == {
        "key": "MEMMAN_EMBED_PROVIDER", "value": "ollama", "source": "env file"}


def test_get_ignores_process_environment_for_file_keys(ok, monkeypatch):
    monkeypatch.setenv("MEMMAN_EMBED_PROVIDER", "voyage")
    assert ok("config", "get", "MEMMAN_EMBED_PROVIDER")["source"] == "default"


@pytest.mark.parametrize("key", ["MEMMAN_LLM_API_KEY", "MEMMAN_RERANK_ENDPOINT",
                                 "MEMMAN_DEFAULT_POSTGRES_DSN", "MEMMAN_POSTGRES_DSN_work"])
def test_get_unset_key_without_default_exits_1(run, key):
    result = run("config", "get", key)
    line = _one_error_line(result)
    assert key in line and "not set" in line
    assert result.stdout == ""


def test_get_per_store_key_with_family_default(ok):
    assert ok("config", "get", "MEMMAN_SURFACE_work") == {
        "key": "MEMMAN_SURFACE_work", "value": "code", "source": "default"}


@pytest.mark.parametrize("key", ["MEMMAN_NOPE", "MEMMAN_BACKEND", "MEMMAN_DATA_DIR"])
def test_get_unknown_key_is_one_line_error(run, key):
    result = run("config", "get", key)
    _one_error_line(result)
    assert result.stdout == ""


# -- unset ---------------------------------------------------------------------------

def test_unset_removes_key_and_falls_back_to_default(ok, data_dir):
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "voyage")
    ok("config", "set", "MEMMAN_LOG_LEVEL", "DEBUG")
    out = ok("config", "unset", "MEMMAN_EMBED_PROVIDER")
    assert out == {"action": "unset", "key": "MEMMAN_EMBED_PROVIDER", "removed": True}
    assert _env(data_dir) == {"MEMMAN_LOG_LEVEL": "DEBUG"}
    assert ok("config", "get", "MEMMAN_EMBED_PROVIDER") == {
        "key": "MEMMAN_EMBED_PROVIDER", "value": "builtin", "source": "default"}
    assert stat.S_IMODE((data_dir / "env").stat().st_mode) == 0o600


def test_unset_missing_key_reports_not_removed(ok, data_dir):
    out = ok("config", "unset", "MEMMAN_EMBED_PROVIDER")
    assert out == {"action": "unset", "key": "MEMMAN_EMBED_PROVIDER", "removed": False}
    assert not data_dir.exists()


def test_unset_secret_then_get_exits_1(run, ok):
    ok("config", "set", "MEMMAN_LLM_API_KEY", FAKE_KEY)
    assert ok("config", "unset", "MEMMAN_LLM_API_KEY")["removed"] is True
    assert run("config", "get", "MEMMAN_LLM_API_KEY").exit_code == 1


def test_unset_unknown_key_is_one_line_error(run):
    _one_error_line(run("config", "unset", "MEMMAN_NOPE"))


# -- secrets -------------------------------------------------------------------------

def _no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.stdout, result
        assert secret not in result.stderr, result


def test_api_key_never_shown_in_clear(run, data_dir):
    results = [run("config", "set", "MEMMAN_LLM_API_KEY", FAKE_KEY)]
    assert results[0].exit_code == 0
    assert _env(data_dir)["MEMMAN_LLM_API_KEY"] == FAKE_KEY  # stored in clear, 0600
    results.append(run("config", "get", "MEMMAN_LLM_API_KEY"))
    results.append(run("config", "show"))
    for result in results:
        assert result.exit_code == 0, result
        _no_secret(result, FAKE_KEY, FAKE_KEY[:-4], FAKE_KEY[3:20])
    assert results[0].json["value"].endswith("WXYZ")
    assert results[1].json == {"key": "MEMMAN_LLM_API_KEY", "value": results[1].json["value"],
                               "source": "env file"}
    assert results[1].json["value"].endswith("WXYZ")
    show = results[2].json
    assert show["env"]["MEMMAN_LLM_API_KEY"].endswith("WXYZ")
    assert show["effective"]["MEMMAN_LLM_API_KEY"].endswith("WXYZ")


@pytest.mark.parametrize("key", ["MEMMAN_VOYAGE_API_KEY", "MEMMAN_OPENROUTER_API_KEY",
                                 "MEMMAN_OPENAI_EMBED_API_KEY"])
def test_other_api_keys_never_shown_in_clear(run, key):
    for args in (("config", "set", key, FAKE_KEY), ("config", "get", key), ("config", "show")):
        result = run(*args)
        assert result.exit_code == 0, result
        _no_secret(result, FAKE_KEY)


@pytest.mark.parametrize("key", ["MEMMAN_DEFAULT_POSTGRES_DSN", "MEMMAN_POSTGRES_DSN_work"])
def test_dsn_password_never_shown_in_clear(run, key):
    for args in (("config", "set", key, FAKE_DSN), ("config", "get", key), ("config", "show")):
        result = run(*args)
        assert result.exit_code == 0, result
        _no_secret(result, FAKE_PASSWORD)
        if args[1] != "show":
            assert "db.internal" in result.json["value"]
            assert "memman" in result.json["value"]


def test_secret_set_in_env_file_by_hand_is_masked_in_show(run, data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "env").write_text(
        f"MEMMAN_LLM_API_KEY='{FAKE_KEY}'\nMEMMAN_POSTGRES_DSN_work=host=db user=u "
        f"password={FAKE_PASSWORD}\n")
    result = run("config", "show")
    assert result.exit_code == 0
    _no_secret(result, FAKE_KEY, FAKE_PASSWORD)


def test_invalid_secret_value_not_echoed_in_error(run):
    bad = f"postgresq://memman:{FAKE_PASSWORD}@db.internal/memman"  # typo in scheme
    result = run("config", "set", "MEMMAN_DEFAULT_POSTGRES_DSN", bad)
    _one_error_line(result)
    _no_secret(result, FAKE_PASSWORD)


# -- show -----------------------------------------------------------------------------

def test_show_on_fresh_dir(ok, data_dir):
    out = ok("config", "show")
    assert out["data_dir"] == str(data_dir)
    assert out["env_file"] == str(data_dir / "env")
    assert out["env"] == {}
    assert out["per_store"] == {}
    assert out["effective"]["MEMMAN_EMBED_PROVIDER"] == "builtin"
    assert out["effective"]["MEMMAN_DEFAULT_BACKEND"] == "sqlite"
    assert out["effective"]["MEMMAN_RERANK_ENABLED"] == "false"
    assert out["effective"]["MEMMAN_LLM_API_KEY"] is None
    assert out["scheduler"]["state"] == "started"
    assert out["active_store"] == "default"
    assert not data_dir.exists()


def test_show_effective_merges_env_file_over_defaults(ok):
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "voyage")
    out = ok("config", "show")
    assert out["env"] == {"MEMMAN_EMBED_PROVIDER": "voyage"}
    assert out["effective"]["MEMMAN_EMBED_PROVIDER"] == "voyage"
    assert out["effective"]["MEMMAN_INTERVAL"] == "60"


def test_show_per_store(ok):
    ok("config", "set", "MEMMAN_BACKEND_my-store", "postgres")
    ok("config", "set", "MEMMAN_POSTGRES_DSN_my-store", FAKE_DSN)
    ok("config", "set", "MEMMAN_SURFACE_2025", "claw")
    ok("config", "set", "MEMMAN_LOG_LEVEL", "INFO")
    out = ok("config", "show")
    per_store = out["per_store"]
    assert set(per_store) == {"my-store", "2025"}
    assert per_store["2025"] == {"MEMMAN_SURFACE_2025": "claw"}
    assert per_store["my-store"]["MEMMAN_BACKEND_my-store"] == "postgres"
    assert FAKE_PASSWORD not in per_store["my-store"]["MEMMAN_POSTGRES_DSN_my-store"]
    assert "db.internal" in per_store["my-store"]["MEMMAN_POSTGRES_DSN_my-store"]


def test_show_scheduler_state_stopped(ok, data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "scheduler.state").write_text("stopped\n")
    out = ok("config", "show")
    assert out["scheduler"]["state"] == "stopped"


def test_show_reports_active_store(ok):
    ok("store", "use", "work")
    assert ok("config", "show")["active_store"] == "work"


def test_data_dir_option_applies_to_config(ok, data_dir, tmp_path):
    other = tmp_path / "elsewhere"
    ok("--data-dir", str(other), "config", "set", "MEMMAN_LOG_LEVEL", "ERROR")
    assert envfile.read(other / "env") == {"MEMMAN_LOG_LEVEL": "ERROR"}
    assert not data_dir.exists()
    assert ok("--data-dir", str(other), "config", "get", "MEMMAN_LOG_LEVEL")["value"] == "ERROR"
    assert ok("config", "get", "MEMMAN_LOG_LEVEL")["value"] == "WARNING"


def test_env_file_mode_after_umask_zero(ok, data_dir):
    old = os.umask(0)
    try:
        ok("config", "set", "MEMMAN_LOG_LEVEL", "INFO")
    finally:
        os.umask(old)
    assert stat.S_IMODE((data_dir / "env").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_get_per_store_key_falls_back_to_the_global_value(ok):
    assert ok("config", "get", "MEMMAN_BACKEND_work") == {
        "key": "MEMMAN_BACKEND_work", "value": "sqlite", "source": "default"}
    ok("config", "set", "MEMMAN_DEFAULT_BACKEND", "postgres")
    assert ok("config", "get", "MEMMAN_BACKEND_work")["value"] == "postgres"
    ok("config", "set", "MEMMAN_BACKEND_work", "sqlite")
    assert ok("config", "get", "MEMMAN_BACKEND_work")["source"] == "env file"
