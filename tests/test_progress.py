"""Progress bars: drawn on a terminal's stderr only, never on stdout or a pipe."""
import io
import json
import os
import subprocess
import sys

import pytest

from memman import progress


class FakeStderr(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


class BrokenStream:
    def isatty(self):
        raise ValueError("I/O operation on closed file")


# -- the wrapper ------------------------------------------------------------------------
def test_enabled_only_for_a_terminal_and_not_when_switched_off(monkeypatch):
    assert progress.enabled(FakeStderr(tty=True))
    assert not progress.enabled(FakeStderr(tty=False))
    assert not progress.enabled(BrokenStream())
    assert not progress.enabled(object())
    for value in ("1", "true", "YES", "on"):
        monkeypatch.setenv("MEMMAN_NO_PROGRESS", value)
        assert not progress.enabled(FakeStderr(tty=True)), value
    monkeypatch.setenv("MEMMAN_NO_PROGRESS", "0")
    assert progress.enabled(FakeStderr(tty=True))


def test_a_terminal_gets_a_bar():
    stream = FakeStderr(tty=True)
    with progress.bar(3, desc="reembed", unit="memory", stream=stream) as bar:
        assert bar.shown
        bar.update(3)
    written = stream.getvalue()
    assert "reembed" in written and "/3" in written


def test_a_pipe_gets_nothing_and_update_still_works():
    stream = FakeStderr(tty=False)
    with progress.bar(3, desc="reembed", stream=stream) as bar:
        assert not bar.shown
        bar.update(3)
    bar.close()  # closing twice is harmless
    assert stream.getvalue() == ""


def test_the_switch_silences_a_terminal(monkeypatch):
    monkeypatch.setenv("MEMMAN_NO_PROGRESS", "1")
    stream = FakeStderr(tty=True)
    with progress.bar(3, desc="migrate", stream=stream) as bar:
        bar.update(1)
    assert stream.getvalue() == ""


def test_show_overrides_the_terminal_check():
    forced = FakeStderr(tty=False)
    with progress.bar(2, desc="forced", show=True, stream=forced) as bar:
        bar.update(2)
    assert "forced" in forced.getvalue()
    off = FakeStderr(tty=True)
    with progress.bar(2, desc="off", show=False, stream=off) as bar:
        bar.update(2)
    assert off.getvalue() == ""


@pytest.mark.parametrize("tty", [True, False])
def test_track_yields_every_item_in_order(tty):
    stream = FakeStderr(tty=tty)
    assert list(progress.track(["a", "b", "c"], desc="migrate", stream=stream)) == ["a", "b", "c"]
    assert ("migrate" in stream.getvalue()) is tty
    assert list(progress.track(iter(range(4)), desc="gen", stream=stream)) == [0, 1, 2, 3]


def test_tqdm_is_not_imported_when_no_bar_is_drawn():
    code = ("import sys; from memman import progress; "
            "assert list(progress.track(range(3), desc='x')) == [0, 1, 2]; "
            "print('tqdm' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout.strip() == "False" and proc.stderr == ""


# -- the commands in CliRunner (stderr is not a terminal) -------------------------------
def test_rebuild_prints_no_bar_off_a_terminal_and_one_when_forced(ok, run, monkeypatch,
                                                                  remember_drained):
    remember_drained("Alice owns the billing service")
    remember_drained("The billing service is written in Go")
    quiet = run("graph", "rebuild")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    monkeypatch.setattr("memman.progress.enabled", lambda stream=None: True)
    loud = run("graph", "rebuild")
    assert loud.exit_code == 0 and "rebuild" in loud.stderr
    assert json.loads(loud.stdout) == json.loads(quiet.stdout)  # stdout stays one document


def test_import_bar_follows_the_wrapper(run, monkeypatch, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"content": f"memory {i}"}) + "\n" for i in range(3)))
    monkeypatch.setattr("memman.progress.enabled", lambda stream=None: True)
    loud = run("import", path)
    assert loud.exit_code == 0 and "import" in loud.stderr
    assert json.loads(loud.stdout)["queued"] == 3


# -- a real terminal ----------------------------------------------------------------------
def _run_with_tty_stderr(args, env) -> tuple[int, str, str]:
    """Run memman with stderr on a pseudo-terminal and stdout on a pipe."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide, in which tqdm draws nothing.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "memman", *args], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    code = proc.wait(timeout=60)
    os.close(master)
    return code, stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_import_on_a_real_terminal_draws_a_bar_unless_switched_off(data_dir, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"content": f"memory {i}"}) + "\n" for i in range(3)))
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    code, stdout, stderr = _run_with_tty_stderr(["import", str(path)], env)
    assert code == 0, stderr
    assert json.loads(stdout)["queued"] == 3
    assert "import" in stderr
    code, stdout, stderr = _run_with_tty_stderr(["import", str(path)],
                                                {**env, "MEMMAN_NO_PROGRESS": "1"})
    assert code == 0 and json.loads(stdout)["queued"] == 3
    assert stderr == ""
