"""``memman prime`` and ``memman guide``: the session-start briefing an agent host
injects into its context, and the usage guide on its own.

``prime`` never fails: a missing store reads as empty, a broken one (corrupt file,
invalid active store, unsupported backend) becomes a one-line warning, and the guide
follows either way. Its output stays far below Claude Code's 10,000-character cap on
hook output (a test measures it).
"""
import click

from memman.cli.context import pass_app

# Claude Code replaces hook output longer than this with a file path and a preview.
HOST_OUTPUT_CAP = 10_000
_WARNING_MAX = 300


def guide_text() -> str:
    from memman import resources

    return resources.read_text("assets", "guide.md").rstrip("\n")


def _one_line(text: str, limit: int = _WARNING_MAX) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _counts(path) -> tuple[int, int]:
    """(active memories, edges) read through a read-only connection."""
    from memman import db

    conn = db.connect(str(path), readonly=True)
    try:
        memories = conn.execute(
            "SELECT count(*) FROM insights WHERE deleted_at IS NULL").fetchone()[0]
        edges = conn.execute("SELECT count(*) FROM edges").fetchone()[0]
    finally:
        conn.close()
    return int(memories), int(edges)


def status_lines(app) -> list[str]:
    """The status line (or a warning) plus a note when writes are paused. Never raises."""
    try:
        store = app.store
    except Exception as exc:  # an invalid --store, $MEMMAN_STORE or active file
        return [f"[memman] Warning: memory is unavailable: {_one_line(exc)}"]
    lines = []
    try:
        backend = app.settings.backend_for(store)
        if backend != "sqlite":
            return [f"[memman] Warning: store {store} uses the {backend} backend, which this "
                    "memman build does not support yet; recall and remember will fail."]
        path = app.datadir.store_db(store)
        memories, edges = _counts(path) if path.is_file() else (0, 0)
        lines.append(f"[memman] Memory active ({memories} memories, {edges} edges) "
                     f"in store {store}.")
    except Exception as exc:
        return [f"[memman] Warning: store {store} could not be read "
                f"({_one_line(type(exc).__name__ + ': ' + str(exc), 200)}); recall may fail "
                "until it is repaired ('memman status' shows details)."]
    try:
        from memman.scheduler import state

        if state.read(app.datadir) == state.STOPPED:
            lines.append("[memman] Writes are paused (scheduler stopped): recall works, "
                         "remember is refused until 'memman scheduler start'.")
    except Exception:
        pass
    return lines


def prime_text(app, *, extra: list[str] | None = None) -> str:
    """Status line(s), then ``extra`` lines (e.g. a post-compaction hint), then the guide."""
    head = status_lines(app) + list(extra or [])
    try:
        guide = guide_text()
    except Exception as exc:
        guide = f"[memman] Warning: the usage guide could not be read ({_one_line(exc, 200)})."
    return "\n".join(head) + "\n\n" + guide + "\n"


@click.command()
@pass_app
def prime(app):
    """Print the session briefing: memory status, then the usage guide."""
    click.echo(prime_text(app), nl=False)


@click.command()
def guide():
    """Print the guide for agents: when to recall, what to remember."""
    click.echo(guide_text())
