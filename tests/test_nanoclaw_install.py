"""NanoClaw: ``memman install --target nanoclaw`` and the ``/add-memman`` skill it ships.

The skill's ``apply.sh`` runs against a temp tree shaped like a NanoClaw v2 checkout
(container/Dockerfile ending in ``USER node``, container/skills/, src/container-runner.ts
passing ``exec bun run /app/src/index.ts`` to the container, and a test asserting that
command). Checks: what it changes, that a second run changes nothing, that ``--remove``
restores every file byte for byte, that the Dockerfile it produces parses, and that
every command and path the two skills name exists.
"""
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest

from memman import __version__
from memman.cli.main import cli

OLD_COMMAND = "exec bun run /app/src/index.ts"
NEW_COMMAND = "exec memman-nanoclaw-start bun run /app/src/index.ts"

DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
# A trimmed stand-in for NanoClaw v2's agent image.
FROM node:24-trixie-slim
ARG BUN_VERSION=1.3.12
RUN apt-get update && apt-get install -y --no-install-recommends \\
        chromium ca-certificates curl git tini \\
    && rm -rf /var/lib/apt/lists/*
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /app
COPY agent-runner/package.json agent-runner/bun.lock ./
RUN mkdir -p /workspace/group /workspace/extra && chown -R node:node /workspace
USER node
WORKDIR /workspace/group
ENTRYPOINT ["/usr/bin/tini", "--", "/app/entrypoint.sh"]
"""

RUNNER_TS = """\
export function buildContainerArgs(mounts: Mount[], imageTag: string): string[] {
  const args: string[] = ['run', '--rm'];
  for (const m of mounts) args.push('-v', `${m.hostPath}:${m.containerPath}`);
  args.push('--entrypoint', 'bash');
  args.push(imageTag);
  args.push('-c', 'exec bun run /app/src/index.ts');
  return args;
}
"""

RUNNER_TEST_TS = """\
it('runs the agent under bun', () => {
  expect(buildContainerArgs([], 'img').slice(-3))
    .toEqual(['img', '-c', 'exec bun run /app/src/index.ts']);
});
"""


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"  # HOME, set by the autouse data_dir fixture


@pytest.fixture
def checkout(tmp_path) -> Path:
    root = tmp_path / "nanoclaw"
    files = {
        "container/Dockerfile": DOCKERFILE,
        "container/entrypoint.sh":
            "#!/bin/bash\nexec bun run /app/src/index.ts < /tmp/input.json\n",
        "container/skills/agent-browser/SKILL.md": "---\nname: agent-browser\n---\n",
        "src/container-runner.ts": RUNNER_TS,
        "src/container-runner.test.ts": RUNNER_TEST_TS,
        "src/group-init.ts": "export function ensurePreCompactHook() {}\n",
        "groups/main/container.json": '{"skills": ["agent-browser"]}\n',
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def skill(ok, data_dir) -> Path:
    out = ok("install", "--target", "nanoclaw", "--no-wizard", "--no-scheduler")
    (entry,) = out["installed"]
    return Path(entry["skill"]).parent


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def apply(skill_dir: Path, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(skill_dir / "apply.sh"), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=60)


# -- memman install / uninstall --target nanoclaw --------------------------------------


def test_install_copies_the_skill_and_pins_this_version(ok, skill, home):
    assert skill == home / ".claude" / "skills" / "add-memman"
    names = sorted(str(p.relative_to(skill)) for p in skill.rglob("*") if p.is_file())
    assert names == ["SKILL.md", "apply.sh", "container/Dockerfile.memman",
                     "container/memman-start.sh", "container/skills/memman/SKILL.md"]
    for name in ("apply.sh", "container/memman-start.sh"):
        assert (skill / name).stat().st_mode & 0o777 == 0o755
        assert not (skill / name).is_symlink()
    block = (skill / "container/Dockerfile.memman").read_text()
    assert f"ARG MEMMAN_SPEC=memman=={__version__}" in block
    assert "@MEMMAN_SPEC@" not in block


def test_install_twice_changes_nothing_and_uninstall_removes_exactly_it(ok, skill, home):
    before = snapshot(home)
    again = ok("install", "--target", "nanoclaw", "--no-wizard", "--no-scheduler")
    assert again["installed"][0]["changes"] == []
    assert snapshot(home) == before

    mine = skill / "notes.txt"  # a file the user added stays, with its folder
    mine.write_text("keep me")
    out = ok("uninstall", "--target", "nanoclaw", "--no-scheduler")
    assert len(out["uninstalled"][0]["changes"]) == 5
    assert sorted(p.name for p in skill.rglob("*")) == ["notes.txt"]
    mine.unlink()
    ok("uninstall", "--target", "nanoclaw", "--no-scheduler")
    assert not skill.exists()


def test_install_replaces_memman_016_links(ok, home, tmp_path):
    target = tmp_path / "site-packages-skill.md"
    target.write_text("old")
    old = home / ".claude" / "skills" / "add-memman"
    old.mkdir(parents=True)
    (old / "SKILL.md").symlink_to(target)
    (old / "container-skill.md").symlink_to(target)
    ok("install", "--target", "nanoclaw", "--no-wizard", "--no-scheduler")
    assert not (old / "SKILL.md").is_symlink()
    assert not (old / "container-skill.md").exists()
    assert target.read_text() == "old"


def test_detection(run, home, checkout, monkeypatch):
    monkeypatch.chdir(home.parent)
    skipped = run("install", "--no-wizard", "--no-scheduler").json["skipped"]
    assert {"target": "nanoclaw", "reason": "not detected on this machine"} in skipped
    monkeypatch.setenv("NANOCLAW_DIR", str(checkout))
    out = run("install", "--no-wizard", "--no-scheduler").json
    entry = next(e for e in out["installed"] if e["target"] == "nanoclaw")
    assert entry["checkouts"] == [str(checkout)]
    assert str(checkout) in entry["next"]


# -- apply.sh ------------------------------------------------------------------------


def test_apply_changes_what_it_says_then_nothing(skill, checkout):
    first = apply(skill, checkout)
    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.splitlines()) == sorted([
        "wrote container/memman/memman-start.sh",
        "wrote container/skills/memman/SKILL.md",
        "added the memman block to container/Dockerfile",
        "changed the container command in src/container-runner.test.ts",
        "changed the container command in src/container-runner.ts",
    ])
    runner = (checkout / "src/container-runner.ts").read_text()
    assert f"args.push('-c', '{NEW_COMMAND}');" in runner
    assert OLD_COMMAND not in runner
    assert NEW_COMMAND in (checkout / "src/container-runner.test.ts").read_text()
    # the image's own entrypoint is not the host's command and stays as it was
    assert "exec bun run" in (checkout / "container/entrypoint.sh").read_text()
    assert (checkout / "container/memman/memman-start.sh").stat().st_mode & 0o111
    assert (checkout / "container/skills/memman/SKILL.md").read_text() == \
        (skill / "container/skills/memman/SKILL.md").read_text()

    state = snapshot(checkout)
    second = apply(skill, checkout)
    assert second.returncode == 0 and second.stdout == "nothing to change\n"
    assert snapshot(checkout) == state


def test_apply_remove_restores_every_byte(skill, checkout):
    original = snapshot(checkout)
    assert apply(skill, checkout).returncode == 0
    removed = apply(skill, checkout, "--remove")
    assert removed.returncode == 0, removed.stderr
    assert snapshot(checkout) == original
    assert not (checkout / "container/memman").exists()
    assert apply(skill, checkout, "--remove").stdout == "nothing to change\n"


def test_apply_with_a_wheel_copies_it_and_replaces_an_older_one(skill, checkout, tmp_path):
    old = tmp_path / "memman-0.0.9-py3-none-any.whl"
    new = tmp_path / "memman-0.1.0-py3-none-any.whl"
    old.write_bytes(b"old wheel")
    new.write_bytes(b"new wheel")
    assert apply(skill, checkout, "--wheel", str(old)).returncode == 0
    result = apply(skill, checkout, "--wheel", str(new))
    assert result.returncode == 0, result.stderr
    wheels = sorted(p.name for p in (checkout / "container/memman").glob("*.whl"))
    assert wheels == [new.name]


@pytest.mark.parametrize("args, message", [
    (["--wheel", "/nonexistent/memman.whl"], "no such wheel"),
    (["--wheel", "/etc/hostname"], "wants a .whl file"),
    (["--frobnicate"], "unknown argument"),
    (["--root"], "--root needs a directory"),
])
def test_apply_refuses_bad_arguments_with_one_line(skill, checkout, args, message):
    before = snapshot(checkout)
    result = apply(skill, checkout, *args) if args != ["--root"] else subprocess.run(
        ["sh", str(skill / "apply.sh"), "--root"], capture_output=True, text=True)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert snapshot(checkout) == before


def test_apply_refuses_what_is_not_a_nanoclaw_checkout(skill, tmp_path, checkout):
    result = apply(skill, tmp_path / "empty-dir-missing")
    assert result.returncode == 1 and "no such directory" in result.stderr
    (tmp_path / "other").mkdir()
    result = apply(skill, tmp_path / "other")
    assert result.returncode == 1 and "does not look like a NanoClaw checkout" in result.stderr
    (checkout / "src/container-runner.ts").write_text("// launched some other way\n")
    (checkout / "src/container-runner.test.ts").unlink()
    before = snapshot(checkout)
    result = apply(skill, checkout)
    assert result.returncode == 1 and "found no 'exec bun run" in result.stderr
    assert snapshot(checkout) == before


def test_apply_appends_the_block_when_the_image_has_no_user_line(skill, checkout):
    dockerfile = checkout / "container/Dockerfile"
    dockerfile.write_text("FROM node:22-slim\nRUN true\n")
    assert apply(skill, checkout).returncode == 0
    text = dockerfile.read_text()
    assert text.startswith("FROM node:22-slim\nRUN true\n# ---- memman:")
    assert apply(skill, checkout, "--remove").returncode == 0
    assert dockerfile.read_text() == "FROM node:22-slim\nRUN true\n"


# -- the Dockerfile it produces ------------------------------------------------------

KNOWN = {"FROM", "ARG", "RUN", "ENV", "COPY", "USER", "WORKDIR", "ENTRYPOINT", "LABEL", "CMD"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(keyword, arguments) per instruction: comments dropped, continuations joined."""
    out, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        out.append((keyword, rest.strip()))
    assert not pending, "a continuation line runs off the end"
    return out


def test_the_patched_dockerfile_parses_and_installs_memman_before_user_node(skill, checkout):
    assert apply(skill, checkout).returncode == 0
    parsed = instructions((checkout / "container/Dockerfile").read_text())
    assert {k for k, _ in parsed} <= KNOWN
    for keyword, rest in parsed:
        assert keyword.isupper() and rest, (keyword, rest)
        if keyword == "ENV":
            assert all("=" in pair for pair in shlex.split(rest)), rest
        if keyword == "COPY":
            assert len(shlex.split(rest)) >= 2, rest
    order = [k + " " + r for k, r in parsed]
    venv = next(i for i, line in enumerate(order) if "python3 -m venv /opt/memman" in line)
    last_user = max(i for i, line in enumerate(order) if line == "USER node")
    assert venv < last_user
    env = next(r for k, r in parsed if k == "ENV" and "MEMMAN_DATA_DIR" in r)
    assert dict(p.split("=", 1) for p in shlex.split(env)) == {
        "MEMMAN_DATA_DIR": "/home/node/.claude/memman", "MEMMAN_SCHEDULER_KIND": "serve"}
    assert ("ARG", f"MEMMAN_SPEC=memman=={__version__}") in parsed
    # what COPY names exists in the build context (container/)
    copy = next(r for k, r in parsed if k == "COPY" and "memman/" in r)
    assert (checkout / "container" / shlex.split(copy)[0]).is_dir()


def test_the_dockerfile_run_lines_are_valid_sh(skill, checkout):
    assert apply(skill, checkout).returncode == 0
    for keyword, rest in instructions((checkout / "container/Dockerfile").read_text()):
        if keyword == "RUN":
            check = subprocess.run(["sh", "-n", "-c", rest], capture_output=True, text=True)
            assert check.returncode == 0, (rest, check.stderr)


# -- the skills name only what exists --------------------------------------------------


def code_lines(markdown: str) -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", markdown, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def check_memman_command(line: str) -> None:
    """Walk ``memman ...`` through the real CLI: every subcommand and option exists."""
    words = shlex.split(line.split("#")[0])
    assert words[0] == "memman"
    command, ctx_args = cli, words[1:]
    ctx = click.Context(cli)
    while ctx_args:
        word = ctx_args.pop(0)
        if word.startswith("--"):
            name = word.split("=")[0]
            opts = {o for p in command.params for o in getattr(p, "opts", [])}
            assert name in opts, f"{line!r}: {name} is not an option of {command.name}"
            param = next(p for p in command.params if name in getattr(p, "opts", []))
            if not getattr(param, "is_flag", False) and "=" not in word and ctx_args:
                ctx_args.pop(0)
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(ctx, word)
            assert sub is not None, f"{line!r}: no command {word!r}"
            command = sub
        # else: a positional argument


def test_container_skill_commands_exist():
    text = Path(__file__).resolve().parents[1].joinpath(
        "assets/nanoclaw/add-memman/container/skills/memman/SKILL.md").read_text()
    lines = [line for line in code_lines(text) if line.startswith("memman ")]
    assert len(lines) >= 4
    for line in lines:
        check_memman_command(line)
    for inline in re.findall(r"`(memman [^`<]+?)`", text):
        check_memman_command(inline.strip())


def test_start_wrapper_and_skill_commands_exist():
    root = Path(__file__).resolve().parents[1] / "assets/nanoclaw/add-memman"
    wrapper = (root / "container/memman-start.sh").read_text()
    calls = [line.strip().split(">")[0] for line in wrapper.splitlines()
             if line.strip().startswith("memman ")]
    assert any("scheduler serve" in c for c in calls) and any("install" in c for c in calls)
    for call in calls:
        check_memman_command(call)
    recipe = (root / "SKILL.md").read_text()
    for line in code_lines(recipe):
        for match in re.finditer(r"(?:^|\s)(memman (?:[a-z-]+ ?)+)", line):
            check_memman_command(match.group(1))


def test_recipe_paths_exist_in_a_v2_checkout_after_apply(skill, checkout):
    assert apply(skill, checkout).returncode == 0
    recipe = (skill / "SKILL.md").read_text()
    named = set(re.findall(r"`((?:container|src)/[\w./-]+)`", recipe))
    assert {"container/memman/", "container/skills/memman/SKILL.md",
            "src/container-runner.ts"} <= named
    for path in named:
        assert (checkout / path.rstrip("/")).exists(), path
    for path in re.findall(r"`(container/[\w./-]+)`",
                           (skill / "apply.sh").read_text()):
        assert (checkout / path.rstrip("/")).exists(), path
