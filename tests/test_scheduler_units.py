"""scheduler install/uninstall/trigger/interval/status with systemd user units and a
launchd agent, against fake systemctl/launchctl scripts that log their argv
(MEMMAN_SYSTEMCTL / MEMMAN_LAUNCHCTL), plus `systemd-analyze verify` of the real
rendered units."""
import json
import os
import platform
import plistlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memman.config.datadir import DataDir
from memman.errors import MemmanError
from memman.integrations import memman_executable
from memman.scheduler import units

SERVICE, TIMER, PLIST = "memman-enrich.service", "memman-enrich.timer", "com.memman.enrich.plist"

FAKE_CTL = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_CTL_LOG"], "a") as fh:
    fh.write(json.dumps(args) + "\\n")
verbs = [a for a in args if not a.startswith("-")]
verb = verbs[0] if verbs else ""
if verb in os.environ.get("FAKE_CTL_FAIL", "").split(","):
    print("Failed to connect to bus: No medium found", file=sys.stderr)
    sys.exit(1)
loaded = os.environ["FAKE_CTL_LOG"] + ".loaded"
if verb == "is-active":
    print("active")
elif verb == "show":
    print("ActiveState=active")
    print("UnitFileState=enabled")
    print("NextElapseUSecMonotonic=" + os.environ.get("FAKE_CTL_NEXT", "infinity"))
elif verb == "bootstrap":
    open(loaded, "w").close()
elif verb == "bootout":
    if not os.path.exists(loaded):
        print("Boot-out failed: 3: No such process", file=sys.stderr)
        sys.exit(3)
    os.unlink(loaded)
elif verb == "print" and "launchctl" in sys.argv[0]:
    if not os.path.exists(loaded):
        print("Could not find service", file=sys.stderr)
        sys.exit(113)
    print("gui/1/com.memman.enrich = {{\\n\\tstate = not running\\n\\tlast exit code = 0\\n}}")
"""


def _fake(tmp_path: Path, name: str) -> tuple[Path, Path]:
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(FAKE_CTL.format(python=sys.executable))
    script.chmod(0o755)
    return script, tmp_path / f"{name}.log"


class Ctl:
    """A fake systemctl or launchctl and the argv lines it logged."""

    def __init__(self, log: Path):
        self.log = log

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def take(self) -> list[list[str]]:
        calls = self.calls()
        self.log.unlink(missing_ok=True)
        return calls


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(units, "LINGER_DIR", tmp_path / "linger")  # lingering off
    return Path(os.environ["HOME"])


@pytest.fixture
def systemctl(tmp_path, monkeypatch, home) -> Ctl:
    script, log = _fake(tmp_path, "systemctl")
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "systemd")
    monkeypatch.setenv("MEMMAN_SYSTEMCTL", str(script))
    monkeypatch.setenv("FAKE_CTL_LOG", str(log))
    return Ctl(log)


@pytest.fixture
def launchctl(tmp_path, monkeypatch, home) -> Ctl:
    script, log = _fake(tmp_path, "launchctl")
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "launchd")
    monkeypatch.setenv("MEMMAN_LAUNCHCTL", str(script))
    monkeypatch.setenv("FAKE_CTL_LOG", str(log))
    return Ctl(log)


def unit_dir(home: Path) -> Path:
    return home / ".config" / "systemd" / "user"


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as {section: [(key, value), ...]}; repeated keys kept (configparser's
    strict mode would reject Environment= twice)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def values(section, key):
    return [v for k, v in section if k == key]


def dir_listing(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


# -- kind detection -------------------------------------------------------------------


def test_kind_env_override_wins(monkeypatch):
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "serve")
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    assert units.detect_kind() == "serve"
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "cron")
    with pytest.raises(MemmanError, match="MEMMAN_SCHEDULER_KIND must be one of"):
        units.detect_kind()


def test_kind_macos_then_linux_systemd_then_error(monkeypatch, tmp_path):
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    assert units.detect_kind() == "launchd"
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setenv("MEMMAN_SYSTEMCTL", "/bin/true")
    monkeypatch.setattr(units, "SYSTEMD_RUNTIME_DIR", tmp_path)  # exists
    assert units.detect_kind() == "systemd"
    monkeypatch.setattr(units, "SYSTEMD_RUNTIME_DIR", tmp_path / "absent")
    assert units.detect_kind(strict=False) is None
    with pytest.raises(MemmanError, match="memman scheduler serve"):
        units.detect_kind()


# -- systemd --------------------------------------------------------------------------


def test_systemd_install_writes_units_and_calls_systemctl(ok, run, systemctl, home, data_dir):
    (data_dir).mkdir(parents=True)
    (data_dir / "env").write_text("MEMMAN_LLM_API_KEY=sk-or-v1-supersecret1234\n")
    result = run("scheduler", "install")
    assert result.exit_code == 0, result
    out = result.json
    assert systemctl.calls() == [
        ["--user", "daemon-reload"],
        ["--user", "enable", "--now", TIMER],
        ["--user", "is-active", TIMER],
    ]
    service, timer = unit_dir(home) / SERVICE, unit_dir(home) / TIMER
    assert out["unit_paths"] == [str(service), str(timer)]
    assert out["state"] == "started" and out["kind"] == "systemd" and out["active"] is True
    assert out["interval_seconds"] == 60 and out["drain_timeout"] == 60
    assert (data_dir / "scheduler.state").read_text().strip() == "started"
    assert "loginctl enable-linger" in result.stderr
    assert any("loginctl enable-linger" in h for h in out["hints"])

    memman = memman_executable()
    svc = parse_unit(service.read_text())["Service"]
    assert values(svc, "Type") == ["oneshot"]
    assert values(svc, "ExecStart") == [f"{memman} scheduler drain --timeout 60"]
    assert values(svc, "Environment") == [f'"MEMMAN_DATA_DIR={data_dir}"', "MEMMAN_WORKER=1"]
    assert values(svc, "StandardOutput") == [f"append:{data_dir}/logs/enrich.log"]
    assert values(svc, "StandardError") == [f"append:{data_dir}/logs/enrich.err"]
    assert not values(svc, "EnvironmentFile")
    assert "supersecret" not in service.read_text() + timer.read_text()
    assert (data_dir / "logs").is_dir()

    tmr = parse_unit(timer.read_text())
    assert values(tmr["Timer"], "OnStartupSec") == ["1min"]
    assert values(tmr["Timer"], "OnUnitActiveSec") == ["60s"]
    assert values(tmr["Timer"], "AccuracySec") == ["1s"]
    assert values(tmr["Timer"], "Persistent") == []  # a no-op on monotonic timers
    assert values(tmr["Install"], "WantedBy") == ["timers.target"]


def test_linger_on_means_no_hint(ok, systemctl, tmp_path):
    import pwd

    (tmp_path / "linger").mkdir()
    (tmp_path / "linger" / pwd.getpwuid(os.getuid()).pw_name).touch()
    assert "hints" not in ok("scheduler", "install")


def test_xdg_config_home_is_honoured(ok, systemctl, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    out = ok("scheduler", "install", "--interval", "300")
    assert out["unit_paths"][0] == str(tmp_path / "xdg" / "systemd" / "user" / SERVICE)
    assert "OnUnitActiveSec=300s" in (tmp_path / "xdg/systemd/user" / TIMER).read_text()
    assert "--timeout 280" in (tmp_path / "xdg/systemd/user" / SERVICE).read_text()


def test_install_twice_is_idempotent(ok, systemctl, home):
    first = ok("scheduler", "install")
    before = dir_listing(unit_dir(home))
    systemctl.take()
    second = ok("scheduler", "install")
    assert dir_listing(unit_dir(home)) == before
    assert sorted(before) == [SERVICE, TIMER]
    assert first["changed"] and second["changed"] == []
    assert systemctl.calls() == [  # no restart: nothing changed
        ["--user", "daemon-reload"],
        ["--user", "enable", "--now", TIMER],
        ["--user", "is-active", TIMER],
    ]


def test_reinstall_with_new_interval_restarts_the_timer(ok, systemctl, home):
    ok("scheduler", "install")
    systemctl.take()
    ok("scheduler", "install", "--interval", "120")
    assert systemctl.calls() == [
        ["--user", "daemon-reload"],
        ["--user", "enable", "--now", TIMER],
        ["--user", "restart", TIMER],
        ["--user", "is-active", TIMER],
    ]
    assert "OnUnitActiveSec=120s" in (unit_dir(home) / TIMER).read_text()


def test_install_refuses_short_interval_for_os_timers(run, systemctl, home):
    result = run("scheduler", "install", "--interval", "30")
    assert result.exit_code == 1
    assert "between 60 and 86400" in result.stderr and "scheduler serve" in result.stderr
    assert systemctl.calls() == [] and not unit_dir(home).exists()


def test_install_reports_failing_systemctl(run, systemctl, monkeypatch):
    monkeypatch.setenv("FAKE_CTL_FAIL", "daemon-reload")
    result = run("scheduler", "install")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 'systemctl --user daemon-reload' failed: "
                                    "Failed to connect to bus")
    assert "XDG_RUNTIME_DIR" in result.stderr and len(result.stderr.splitlines()) == 1


def test_uninstall_removes_exactly_the_units(ok, systemctl, home, data_dir):
    other = unit_dir(home) / "someone-else.service"
    other.parent.mkdir(parents=True)
    other.write_text("[Service]\nExecStart=/bin/true\n")
    ok("config", "set", "MEMMAN_LLM_API_KEY", "sk-or-v1-supersecret1234")
    ok("scheduler", "install")
    ok("remember", "the build uses make")
    data_before = dir_listing(data_dir)
    systemctl.take()

    out = ok("scheduler", "uninstall")
    assert systemctl.calls() == [
        ["--user", "stop", TIMER],
        ["--user", "disable", TIMER],
        ["--user", "daemon-reload"],
    ]
    assert out["removed"] == [str(unit_dir(home) / SERVICE), str(unit_dir(home) / TIMER)]
    assert sorted(dir_listing(unit_dir(home))) == ["someone-else.service"]
    assert dir_listing(data_dir) == data_before  # state, env (secret) and queue untouched
    assert (data_dir / "scheduler.state").read_text().strip() == "started"
    assert "sk-or-v1-supersecret1234" in (data_dir / "env").read_text()

    systemctl.take()
    again = ok("scheduler", "uninstall")
    assert again["removed"] == [] and systemctl.calls() == []


def test_uninstall_removes_a_dangling_enable_link(ok, systemctl, home, monkeypatch):
    ok("scheduler", "install")
    wants = unit_dir(home) / "timers.target.wants"
    wants.mkdir()
    (wants / TIMER).symlink_to(unit_dir(home) / TIMER)
    monkeypatch.setenv("FAKE_CTL_FAIL", "disable")
    out = ok("scheduler", "uninstall")
    assert not (wants / TIMER).is_symlink()
    assert out["warnings"] and "disable" in out["warnings"][0]


def test_interval_rewrite_keeps_a_stopped_state(ok, systemctl, home, data_dir):
    ok("scheduler", "install")
    stopped = ok("scheduler", "stop")
    assert stopped["unit"] == {"kind": "systemd", "action": "disabled", "ok": True}
    systemctl.take()

    out = ok("scheduler", "interval", "--seconds", "120")
    assert systemctl.calls() == [["--user", "daemon-reload"]]  # no enable, no restart
    assert out["state"] == "stopped" and out["applied"] is False
    assert out["interval_seconds"] == 120 and out["previous_interval_seconds"] == 60
    assert (data_dir / "scheduler.state").read_text().strip() == "stopped"
    assert "OnUnitActiveSec=120s" in (unit_dir(home) / TIMER).read_text()
    assert "--timeout 100" in (unit_dir(home) / SERVICE).read_text()
    shown = ok("scheduler", "interval")
    assert shown["interval_seconds"] == 120 and shown["state"] == "stopped"


def test_interval_rewrite_when_started_restarts_the_timer(ok, run, systemctl, home):
    ok("scheduler", "install")
    systemctl.take()
    ok("scheduler", "interval", "--seconds", "90")
    assert systemctl.calls() == [["--user", "daemon-reload"], ["--user", "restart", TIMER]]
    bad = run("scheduler", "interval", "--seconds", "59")
    assert bad.exit_code == 1 and "between 60 and 86400" in bad.stderr


def test_interval_needs_installed_units(run, systemctl):
    assert run("scheduler", "interval").json["installed"] is False
    result = run("scheduler", "interval", "--seconds", "120")
    assert result.exit_code == 1 and "not installed" in result.stderr


def test_trigger_starts_the_service_without_blocking(ok, run, systemctl):
    ok("scheduler", "install")
    systemctl.take()
    assert ok("scheduler", "trigger")["unit"] == SERVICE
    assert systemctl.take() == [["--user", "start", "--no-block", SERVICE]]
    ok("scheduler", "stop")
    systemctl.take()
    gated = run("scheduler", "trigger")
    assert gated.exit_code == 1
    assert gated.stderr == ("Error: Scheduler is stopped; cannot trigger drain. "
                            "Run 'memman scheduler start' to enable.\n")
    assert systemctl.calls() == []


def test_start_stop_toggle_the_timer(ok, systemctl):
    ok("scheduler", "install")
    systemctl.take()
    assert ok("scheduler", "stop")["state"] == "stopped"
    assert systemctl.take() == [["--user", "stop", TIMER], ["--user", "disable", TIMER]]
    out = ok("scheduler", "start")
    assert out["state"] == "started" and out["unit"]["ok"] is True
    assert systemctl.take() == [["--user", "enable", "--now", TIMER]]


def test_failing_systemctl_does_not_block_the_state_change(run, ok, systemctl, data_dir,
                                                           monkeypatch):
    ok("scheduler", "install")
    monkeypatch.setenv("FAKE_CTL_FAIL", "stop,disable,enable")
    result = run("scheduler", "stop", "--text")
    assert result.exit_code == 0
    assert result.stdout == "scheduler stopped\n"
    assert "Warning: the scheduler state is stopped, but the systemd timer was not disabled" \
        in result.stderr
    assert (data_dir / "scheduler.state").read_text().strip() == "stopped"
    out = run("scheduler", "start")
    assert out.exit_code == 0 and out.json["state"] == "started"
    assert out.json["unit"]["ok"] is False and "Failed to connect to bus" in out.json["warnings"][0]
    assert (data_dir / "scheduler.state").read_text().strip() == "started"


def test_units_of_another_data_dir_are_left_alone(ok, run, systemctl, tmp_path, data_dir):
    ok("scheduler", "install")
    systemctl.take()
    other = tmp_path / "other"
    assert ok("--data-dir", other, "scheduler", "stop") == {"state": "stopped"}
    assert systemctl.calls() == []
    assert (data_dir / "scheduler.state").read_text().strip() == "started"
    refused = run("--data-dir", other, "scheduler", "uninstall")
    assert refused.exit_code == 1 and f"drains {data_dir}" in refused.stderr
    status = ok("--data-dir", other, "scheduler", "status")
    assert status["unit_data_dir"] == str(data_dir) and "warning" in status


def test_status_reports_units_next_run_and_logs(ok, run, systemctl, home, data_dir, monkeypatch):
    ok("scheduler", "install", "--interval", "120")
    uptime = time.monotonic()
    monkeypatch.setenv("FAKE_CTL_NEXT", f"{int(uptime // 3600)}h {int(uptime % 3600 // 60)}min "
                                         f"{uptime % 60 + 90:.6f}s")
    (data_dir / "logs" / "enrich.log").write_text("{}\n")
    out = ok("scheduler", "status")
    assert out["platform"] == platform.system().lower()
    assert out["kind"] == "systemd" and out["installed"] is True and out["active"] is True
    assert out["unit_paths"] == [str(unit_dir(home) / SERVICE), str(unit_dir(home) / TIMER)]
    assert out["interval_seconds"] == 120 and out["enabled"] is True
    assert out["memman"] == memman_executable()
    assert out["log_paths"]["stdout"] == str(data_dir / "logs" / "enrich.log")
    assert out["log_mtimes"]["stdout"] and out["log_mtimes"]["stderr"] is None
    from memman import clock

    delta = clock.parse_iso(out["next_run"]) - time.time()
    assert 80 < delta < 100, out["next_run"]
    text = run("scheduler", "status", "--text").stdout
    assert text.startswith("state: started\nlast run: never\nkind: systemd (installed)\n")
    assert "interval: 120 s" in text and "next run: " in text


def test_status_without_any_scheduler(ok, monkeypatch, tmp_path):
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setattr(units, "SYSTEMD_RUNTIME_DIR", tmp_path / "absent")
    out = ok("scheduler", "status")
    assert out["kind"] is None and "memman scheduler serve" in out["kind_error"]
    assert out["installed"] is False and out["state"] == "started"


def test_timespan_parser():
    assert units.parse_timespan("2d 5h 51min 14.136440s") == pytest.approx(
        2 * 86400 + 5 * 3600 + 51 * 60 + 14.13644)
    assert units.parse_timespan("998.368ms") == pytest.approx(0.998368)
    for nothing in ("", "0", "infinity", "soon", "5 parsecs"):
        assert units.parse_timespan(nothing) is None


def test_paths_that_cannot_go_into_a_unit_are_refused(systemctl, tmp_path):
    datadir = DataDir(tmp_path / "bad\nname")
    with pytest.raises(MemmanError, match="line break"):
        units.render_service(memman_executable(), datadir, 60)
    with pytest.raises(MemmanError, match="quotes or backslashes"):
        units.render_service('/opt/we"ird/memman', DataDir(tmp_path), 60)


# -- systemd-analyze verify ---------------------------------------------------------------


def _verify(files: list[Path], *extra: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", *extra, "verify", *map(str, files)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (Debian package "
                                          "'systemd'); unit files not verified")


@needs_analyze
def test_systemd_analyze_verify_accepts_the_units(ok, systemctl, home, tmp_path):
    ok("scheduler", "install")
    files = [unit_dir(home) / SERVICE, unit_dir(home) / TIMER]
    proc = _verify(files)
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    proc = _verify(files, "--user", env={"XDG_RUNTIME_DIR": str(runtime)})
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")


@needs_analyze
def test_systemd_analyze_verify_with_awkward_paths(ok, systemctl, home, tmp_path, monkeypatch):
    odd = tmp_path / "odd dir %h $HOME & <x>"
    odd.mkdir()
    exe = odd / "mem man"
    exe.symlink_to(memman_executable())
    monkeypatch.setattr("memman.integrations.memman_executable", lambda: str(exe))
    data = odd / "data %i"
    ok("--data-dir", data, "scheduler", "install")
    service = unit_dir(home) / SERVICE
    text = service.read_text()
    assert 'ExecStart="' in text and "%%h" in text
    proc = _verify([service, unit_dir(home) / TIMER])
    assert (proc.returncode, proc.stderr) == (0, "")
    assert units.installed("systemd").data_dir == str(data)
    assert units.installed("systemd").memman == str(exe)


@needs_analyze
def test_verify_would_catch_a_broken_unit(ok, systemctl, home, tmp_path):
    """The empty-stderr assertion above is meaningful: verify only warns on typos."""
    ok("scheduler", "install")
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(unit_dir(home) / SERVICE, broken / SERVICE)
    timer = (unit_dir(home) / TIMER).read_text().replace("OnUnitActiveSec", "OnUnitActivSec")
    (broken / TIMER).write_text(timer)
    proc = _verify([broken / SERVICE, broken / TIMER])
    assert "OnUnitActivSec" in proc.stderr


# -- launchd ------------------------------------------------------------------------------


@pytest.fixture
def odd_home(monkeypatch, tmp_path, launchctl) -> Path:
    """A HOME (and data dir) with spaces, '&' and '<' in the path."""
    home = tmp_path / "Home With Spaces & <Amp>"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MEMMAN_DATA_DIR", str(home / ".memman"))
    return home


def test_launchd_install_writes_a_valid_plist(ok, launchctl, odd_home):
    data_dir = odd_home / ".memman"
    uid = os.getuid()
    out = ok("scheduler", "install", "--interval", "300")
    plist = odd_home / "Library" / "LaunchAgents" / PLIST
    assert out["unit_paths"] == [str(plist)] and out["active"] is True
    assert launchctl.calls() == [
        ["print", f"gui/{uid}/com.memman.enrich"],
        ["enable", f"gui/{uid}/com.memman.enrich"],
        ["bootstrap", f"gui/{uid}", str(plist)],
        ["print", f"gui/{uid}/com.memman.enrich"],
    ]
    data = plistlib.loads(plist.read_bytes())
    assert data["Label"] == plist.name[: -len(".plist")]
    args = data["ProgramArguments"]
    assert args == [memman_executable(), "scheduler", "drain", "--timeout", "280"]
    assert os.path.isabs(args[0]) and os.access(args[0], os.X_OK)
    assert isinstance(data["StartInterval"], int) and not isinstance(data["StartInterval"], bool)
    assert data["StartInterval"] == 300
    assert data["RunAtLoad"] is True
    assert data["EnvironmentVariables"] == {"MEMMAN_DATA_DIR": str(data_dir), "MEMMAN_WORKER": "1"}
    assert data["StandardOutPath"] == str(data_dir / "logs" / "enrich.log")
    assert data["StandardErrorPath"] == str(data_dir / "logs" / "enrich.err")
    assert Path(data["StandardOutPath"]).parent.is_dir()
    assert b"&amp;" in plist.read_bytes()  # escaped, not spliced into XML


def test_launchd_install_twice_reloads_and_uninstall_boots_out(ok, launchctl, odd_home):
    data_dir = odd_home / ".memman"
    uid = os.getuid()
    ok("scheduler", "install")
    plist = odd_home / "Library" / "LaunchAgents" / PLIST
    before = plist.read_bytes()
    launchctl.take()
    assert ok("scheduler", "install")["changed"] == []
    assert plist.read_bytes() == before
    assert launchctl.take() == [
        ["print", f"gui/{uid}/com.memman.enrich"],
        ["bootout", f"gui/{uid}/com.memman.enrich"],
        ["enable", f"gui/{uid}/com.memman.enrich"],
        ["bootstrap", f"gui/{uid}", str(plist)],
        ["print", f"gui/{uid}/com.memman.enrich"],
    ]
    assert ok("scheduler", "trigger")["unit"] == f"gui/{uid}/com.memman.enrich"
    assert launchctl.take() == [["kickstart", f"gui/{uid}/com.memman.enrich"]]
    out = ok("scheduler", "uninstall")
    assert out["removed"] == [str(plist)] and "warnings" not in out
    assert launchctl.take() == [
        ["print", f"gui/{uid}/com.memman.enrich"],
        ["bootout", f"gui/{uid}/com.memman.enrich"],
    ]
    assert not plist.exists() and (plist.parent).is_dir()
    assert (data_dir / "scheduler.state").read_text().strip() == "started"


def test_launchd_interval_rewrite_keeps_stopped(ok, launchctl, odd_home):
    data_dir = odd_home / ".memman"
    uid = os.getuid()
    ok("scheduler", "install")
    ok("scheduler", "stop")
    launchctl.take()
    out = ok("scheduler", "interval", "--seconds", "600")
    assert out["applied"] is False and launchctl.calls() == []
    plist = odd_home / "Library" / "LaunchAgents" / PLIST
    assert plistlib.loads(plist.read_bytes())["StartInterval"] == 600
    assert (data_dir / "scheduler.state").read_text().strip() == "stopped"
    ok("scheduler", "start")
    assert launchctl.take() == [
        ["enable", f"gui/{uid}/com.memman.enrich"],
        ["print", f"gui/{uid}/com.memman.enrich"],
        ["bootstrap", f"gui/{uid}", str(plist)],
    ]


# -- serve ----------------------------------------------------------------------------------


def test_serve_install_records_the_interval(ok, run, monkeypatch, data_dir):
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "serve")
    ok("scheduler", "stop")
    result = run("scheduler", "install", "--interval", "15")
    assert result.exit_code == 0 and "memman scheduler serve" in result.stderr
    out = result.json
    assert out["action"] == "recorded" and out["unit_paths"] == [] and out["state"] == "started"
    assert "MEMMAN_INTERVAL=15" in (data_dir / "env").read_text().splitlines()
    assert ok("config", "get", "MEMMAN_INTERVAL")["value"] == "15"
    assert ok("scheduler", "interval")["interval_seconds"] == 15
    assert ok("scheduler", "interval", "--seconds", "0")["interval_seconds"] == 0
    status = ok("scheduler", "status")
    assert status["kind"] == "serve" and status["installed"] is True
    removed = ok("scheduler", "uninstall")
    assert removed["removed"] == [f"{data_dir / 'env'} (MEMMAN_INTERVAL)"]
    assert "MEMMAN_INTERVAL" not in (data_dir / "env").read_text()
    assert (data_dir / "scheduler.state").read_text().strip() == "started"


def test_trigger_in_serve_mode_is_a_one_line_error(run, monkeypatch):
    monkeypatch.setenv("MEMMAN_SCHEDULER_KIND", "serve")
    result = run("scheduler", "trigger")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: serve mode drains on its own schedule")


def test_shipped_templates_have_only_known_placeholders():
    from memman import resources

    service = resources.read_text("systemd", f"{SERVICE}.in")
    timer = resources.read_text("systemd", f"{TIMER}.in")
    assert set(units._PLACEHOLDER.findall(service)) == {
        "DATA_DIR_TEXT", "DATA_DIR_ENV", "MEMMAN", "TIMEOUT", "HARD_TIMEOUT", "LOG_OUT",
        "LOG_ERR"}
    assert set(units._PLACEHOLDER.findall(timer)) == {"INTERVAL"}
    assert "Persistent=" not in timer.replace("Persistent= is", "")


# -- 'memman install' / 'memman uninstall' run the scheduler too ------------------------


def test_memman_install_installs_the_units_and_keeps_their_interval(ok, systemctl, home):
    ok("scheduler", "install", "--interval", "300")
    out = ok("install", "--target", "claude-code", "--no-wizard")
    assert out["scheduler"]["kind"] == "systemd" and out["scheduler"]["interval_seconds"] == 300
    assert "OnUnitActiveSec=300s" in (unit_dir(home) / units.TIMER).read_text()
    assert (unit_dir(home) / units.SERVICE).exists()


def test_memman_install_without_a_scheduler_still_installs_the_host(ok, monkeypatch, tmp_path):
    monkeypatch.setattr(units, "SYSTEMD_RUNTIME_DIR", tmp_path / "no-systemd")
    monkeypatch.setattr("platform.system", lambda: "Linux")
    out = ok("install", "--target", "claude-code", "--no-wizard")
    assert out["installed"][0]["target"] == "claude-code"
    assert out["scheduler"]["installed"] is False
    assert "memman scheduler serve" in out["scheduler"]["remedy"]


def test_no_scheduler_flags_leave_the_units_alone(ok, systemctl, home):
    out = ok("install", "--target", "claude-code", "--no-wizard", "--no-scheduler")
    assert "scheduler" not in out and not unit_dir(home).exists()
    ok("scheduler", "install")
    out = ok("uninstall", "--target", "claude-code", "--no-scheduler")
    assert "scheduler" not in out and (unit_dir(home) / units.TIMER).exists()


def test_memman_uninstall_removes_units_but_keeps_state_and_secrets(ok, systemctl, home,
                                                                   data_dir):
    ok("config", "set", "MEMMAN_LLM_API_KEY", "sk-test-123456789")
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", "http://127.0.0.1:9/v1")
    ok("install", "--target", "claude-code", "--no-wizard")
    out = ok("uninstall", "--target", "claude-code")
    assert sorted(out["scheduler"]["removed"]) == sorted(
        str(unit_dir(home) / n) for n in (units.SERVICE, units.TIMER))
    assert (data_dir / "scheduler.state").exists()
    env = (data_dir / "env").read_text()
    assert "MEMMAN_LLM_API_KEY=sk-test-123456789" in env
    assert "purged" not in out


def test_uninstall_purge_drops_state_and_secrets_only(ok, systemctl, home, data_dir):
    ok("config", "set", "MEMMAN_LLM_API_KEY", "sk-test-123456789")
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", "http://127.0.0.1:9/v1")
    ok("remember", "The deploy script lives in tools/deploy.sh")
    ok("install", "--target", "claude-code", "--no-wizard")
    out = ok("uninstall", "--target", "claude-code", "--purge")
    assert f"{data_dir / 'env'} (MEMMAN_LLM_API_KEY)" in out["purged"]["removed"]
    assert not (data_dir / "scheduler.state").exists()
    env = (data_dir / "env").read_text()
    assert "MEMMAN_LLM_API_KEY" not in env and "MEMMAN_LLM_ENDPOINT=http://127.0.0.1:9/v1" in env
    assert ok("scheduler", "queue", "list")["rows"]  # the queue is kept


def test_drain_rotates_the_service_logs(ok, data_dir):
    from memman.worker import log

    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "enrich.log").write_bytes(b"x" * (log.MAX_BYTES + 1))
    (logs / "enrich.err").write_text("small\n")
    ok("scheduler", "drain")
    assert (logs / "enrich.log.1").stat().st_size == log.MAX_BYTES + 1
    assert not (logs / "enrich.log").exists()
    assert (logs / "enrich.err").read_text() == "small\n"
