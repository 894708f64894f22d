"""The built wheel carries assets/, hooks/, systemd/ and launchd/ as package resources."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # Build from a clean copy: setuptools' build/ cache in the checkout could hold
    # files that no longer exist.
    src = tmp_path_factory.mktemp("src") / "memman"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", "build", "dist", ".git", "*.egg-info", "__pycache__", ".pytest_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("memman-*.whl")
    return whl


def test_wheel_contains_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    mapping = {"assets": "memman/assets", "hooks": "memman/hook_scripts",
               "systemd": "memman/systemd_units", "launchd": "memman/launchd_units"}
    for folder, package in mapping.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT / folder).as_posix()
                assert f"{package}/{rel}" in names, f"{folder}/{rel} missing from the wheel"


def test_installed_wheel_reads_resources(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)
    code = ("import json, memman, memman.resources as r; print(json.dumps(["
            "memman.__file__, r.read_text('assets', 'guide.md'), "
            "sorted(p.name for p in r.folder('hooks').iterdir())]))")
    proc = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    location, guide, hooks = json.loads(proc.stdout)
    assert location.startswith(str(venv))
    assert guide == (ROOT / "assets" / "guide.md").read_text()
    assert hooks == sorted(p.name for p in (ROOT / "hooks").iterdir() if p.is_file())
