"""``memman install --target mcp-json``: print the client entry, or merge it (--write)."""
import json
import tomllib

import pytest


def entry_of(out):
    (installed,) = out["installed"]
    assert installed["target"] == "mcp-json"
    return installed


def install(ok, *extra):
    return entry_of(ok("install", "--target", "mcp-json", "--no-scheduler", "--no-wizard",
                       *extra))


def test_prints_a_ready_entry_for_json_clients_and_codex(ok, data_dir):
    out = install(ok)
    server = out["mcpServers"]["memman"]
    assert server["args"] == ["mcp"] and server["command"].startswith("/")
    assert server["env"] == {"MEMMAN_DATA_DIR": str(data_dir)}
    assert out["written"] is None
    assert tomllib.loads(out["codex_toml"])["mcp_servers"]["memman"] == server


def test_root_store_option_reaches_the_entry(ok):
    out = entry_of(ok("--store", "work", "install", "--target", "mcp-json", "--no-scheduler",
                      "--no-wizard"))
    assert out["mcpServers"]["memman"]["args"] == ["--store", "work", "mcp"]


def test_write_merges_into_a_json_config_and_keeps_the_rest(ok, tmp_path):
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}, "theme": "dark"}))
    first = install(ok, "--write", path)
    data = json.loads(path.read_text())
    assert data["theme"] == "dark" and data["mcpServers"]["other"] == {"command": "x"}
    assert data["mcpServers"]["memman"] == first["entry"] and first["changed"] is True
    assert list(tmp_path.glob("claude_desktop_config.json.memman-backup-*"))
    assert install(ok, "--write", path)["changed"] is False  # idempotent


def test_write_creates_a_missing_json_file(ok, tmp_path):
    path = tmp_path / ".cursor" / "mcp.json"
    install(ok, "--write", path)
    assert set(json.loads(path.read_text())["mcpServers"]) == {"memman"}


@pytest.mark.parametrize("text", ["{broken", '{"mcpServers": []}', "[1, 2]"])
def test_unusable_json_config_is_refused_and_untouched(run, tmp_path, text):
    path = tmp_path / "mcp.json"
    path.write_text(text)
    result = run("install", "--target", "mcp-json", "--no-scheduler", "--no-wizard",
                 "--write", path)
    assert result.exit_code != 0 and result.stderr.startswith("Error: ")
    assert path.read_text() == text
    assert not list(tmp_path.glob("mcp.json.memman-backup-*"))


def test_write_toml_adds_or_replaces_the_codex_table(ok, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('model = "o4"\n\n[mcp_servers.memman]\ncommand = "old"\nargs = []\n\n'
                    '[mcp_servers.memman.env]\nX = "1"\n\n[mcp_servers.other]\ncommand = "y"\n')
    out = install(ok, "--write", path)
    data = tomllib.loads(path.read_text())
    assert data["model"] == "o4" and data["mcp_servers"]["other"] == {"command": "y"}
    assert data["mcp_servers"]["memman"] == out["entry"]
    assert install(ok, "--write", path)["changed"] is False


@pytest.mark.parametrize("text", ["mcp_servers = { memman = { command = 'x' } }\n",
                                  "[broken\n"])
def test_toml_the_merge_cannot_handle_is_refused(run, tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    result = run("install", "--target", "mcp-json", "--no-scheduler", "--no-wizard",
                 "--write", path)
    assert result.exit_code != 0 and "untouched" in result.stderr
    assert path.read_text() == text


def test_uninstall_removes_the_entry_only(tmp_path):
    from memman.integrations import InstallContext, mcp_json

    path = tmp_path / "mcp.json"
    ctx = InstallContext(home=tmp_path, data_dir=tmp_path / "d", memman_bin="/bin/memman",
                         write_path=path)
    path.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    mcp_json.install(ctx)
    assert mcp_json.uninstall(ctx)["removed"] == [str(path)]
    assert json.loads(path.read_text()) == {"mcpServers": {"other": {"command": "x"}}}


def test_write_needs_the_mcp_json_target(run, tmp_path):
    result = run("install", "--no-scheduler", "--no-wizard", "--write", tmp_path / "x.json")
    assert result.exit_code == 2 and not (tmp_path / "x.json").exists()


def test_not_installed_without_an_explicit_target(ok):
    out = ok("install", "--no-scheduler", "--no-wizard")
    assert "mcp-json" not in [i["target"] for i in out["installed"]]
