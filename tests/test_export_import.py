"""memman export / memman import: the format, bad lines, created_at, and the round trip."""
import json
import os
import stat

import pytest

from memman.queue.db import QueueDB
from memman.store.model import Insight

# What an export -> import -> drain round trip keeps exactly (see cli/export.py).
GUARANTEED_MEMORY_FIELDS = ("id", "content", "category", "importance", "entities", "source",
                            "created_at")
GUARANTEED_EDGE_FIELDS = ("source_id", "target_id", "edge_type", "weight", "metadata",
                          "created_at")


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def queue_rows(data_dir):
    q = QueueDB(data_dir / "queue.db")
    try:
        return q.list(limit=100000)
    finally:
        q.close()


def pending_edge_count(data_dir):
    q = QueueDB(data_dir / "queue.db")
    try:
        return q.count_pending_edges()
    finally:
        q.close()


def write_jsonl(path, *items):
    path.write_text("".join((i if isinstance(i, str) else json.dumps(i)) + "\n"
                            for i in items), encoding="utf-8")
    return path


@pytest.fixture
def populated(ok, remember_drained):
    """A store with varied memories, a forgotten one, and two manual links."""
    ids = {
        "alice": remember_drained("Alice owns the billing service", "--cat", "decision",
                                  "--imp", "5", "--entities", "Alice,billing"),
        "ci": remember_drained("The deploy pipeline runs on GitHub Actions", "--cat", "fact",
                               "--imp", "4", "--source", "agent",
                               "--entities", '["GitHub Actions"]'),
        "tabs": remember_drained("Bob prefers tabs over spaces in Go code", "--cat",
                                 "preference", "--imp", "2", "--source", "external"),
        "pg": remember_drained("Postgres 16 is the production database", "--cat", "context"),
        "gone": remember_drained("A temporary note about the staging VPN"),
    }
    ok("forget", ids["gone"])
    ok("graph", "link", ids["alice"], ids["ci"], "--type", "causal", "--weight", "0.8",
       "--meta", '{"note": "owner decides"}')
    ok("graph", "link", ids["tabs"], ids["pg"], "--type", "semantic", "--weight", "0.4")
    return ids


def guaranteed(export_lines: list[dict]) -> tuple[dict, set]:
    memories = {m["id"]: {k: m[k] for k in GUARANTEED_MEMORY_FIELDS}
                for m in export_lines if m["type"] == "memory" and not m["deleted_at"]}
    edges = {tuple(json.dumps(e[k], sort_keys=True) for k in GUARANTEED_EDGE_FIELDS)
             for e in export_lines if e["type"] == "edge" and e["manual"]}
    return memories, edges


# -- export ---------------------------------------------------------------------------------
def test_export_format(run, populated):
    result = run("export")
    assert result.exit_code == 0 and result.stderr == ""
    lines = lines_of(result.stdout)
    head = lines[0]
    assert head["type"] == "header" and head["format"] == "memman-export"
    assert head["version"] == 1 and head["store"] == "default"
    assert head["exported_at"].endswith("Z")
    assert head["embed_fingerprint"] == {"dim": 384, "model": "hash-ngram-v1",
                                         "provider": "builtin"}
    assert head["schema"][0] == "m001_insights" and "m002_edges" in head["schema"]
    memories = [x for x in lines if x["type"] == "memory"]
    edges = [x for x in lines if x["type"] == "edge"]
    assert len(memories) + len(edges) + 1 == len(lines)
    assert lines.index(memories[-1]) < lines.index(edges[0])  # memories first, then edges
    # every memory, the forgotten one too, in insertion order, every column but vectors
    assert [m["id"] for m in memories] == list(populated.values())
    for m in memories:
        assert set(m) == set(Insight.COLUMNS) | {"type"}
        assert "embedding" not in m and "embedding_pending" not in m
    by_id = {m["id"]: m for m in memories}
    assert by_id[populated["gone"]]["deleted_at"] is not None
    assert by_id[populated["alice"]]["deleted_at"] is None
    assert by_id[populated["ci"]]["source"] == "agent"
    manual = [e for e in edges if e["manual"]]
    assert len(manual) == 4  # two links, both directions
    assert all(e["metadata"]["created_by"] == "claude" for e in manual)
    assert any(not e["manual"] for e in edges)  # the worker's edges are exported too
    assert set(edges[0]) == {"type", "source_id", "target_id", "edge_type", "weight",
                             "metadata", "created_at", "manual"}


def test_export_to_a_file_is_atomic_and_private(ok, data_dir, populated, tmp_path):
    target = tmp_path / "out" / "dump.jsonl"
    target.parent.mkdir()
    target.write_text("old contents\n")
    out = ok("export", "--output", target)
    assert out == {"action": "exported", "path": str(target), "store": "default",
                   "memories": 5, "edges": out["edges"]}
    lines = lines_of(target.read_text(encoding="utf-8"))
    assert lines[0]["type"] == "header" and len(lines) == 1 + 5 + out["edges"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(target.parent) == ["dump.jsonl"]  # no temporary file left


def test_export_errors(run, tmp_path, populated):
    missing = run("--store", "ghost", "export")
    assert missing.exit_code == 1 and missing.stderr == "Error: store 'ghost' does not exist\n"
    assert missing.stdout == ""
    nodir = run("export", "-o", tmp_path / "no" / "such" / "dir" / "x.jsonl")
    assert nodir.exit_code == 1 and nodir.stderr.startswith("Error: cannot write ")
    assert len(nodir.stderr.splitlines()) == 1
    isdir = run("export", "-o", tmp_path)
    assert isdir.exit_code == 1 and "is a directory" in isdir.stderr


def test_export_of_an_empty_store_imports_as_nothing(ok, run, data_dir, tmp_path):
    ok("store", "create", "empty")
    path = tmp_path / "empty.jsonl"
    ok("--store", "empty", "export", "-o", path)
    assert len(path.read_text().splitlines()) == 1
    out = ok("import", path, "--store", "other")
    assert out["queued"] == 0 and out["errors"] == []


# -- import ---------------------------------------------------------------------------------
def test_plain_jsonl_keeps_created_at_and_hints(ok, data_dir, tmp_path):
    path = write_jsonl(
        tmp_path / "plain.jsonl",
        {"content": "We chose SQLite for the queue", "category": "decision", "importance": 4,
         "entities": ["SQLite"], "source": "agent", "created_at": "2024-01-02T03:04:05Z"},
        {"content": "Standups are at 9:30", "created_at": "2023-06-01"},
        {"content": "The office wifi is slow", "created_at": "2024-03-01T12:00:00+02:00"},
        {"content": "No timestamp here", "entities": "Ops, Infra"},
    )
    out = ok("import", path)
    assert out == {"action": "queued", "store": "default", "queued": 4, "edges_pending": 0,
                   "errors": [], "error_count": 0, "skipped_deleted": 0,
                   "skipped_auto_edges": 0}
    rows = sorted(queue_rows(data_dir), key=lambda r: r["id"])
    assert all(r["hint_no_reconcile"] == 1 for r in rows)
    assert rows[0]["hint_created_at"] == "2024-01-02T03:04:05.000000Z"
    drained = ok("scheduler", "drain")
    assert drained["processed"] == 4 and drained["failed"] == 0
    ids = [r["facts"][0]["id"] for r in drained["rows"]]
    first = ok("insights", "show", ids[0])
    assert first["created_at"] == "2024-01-02T03:04:05.000000Z"
    assert (first["category"], first["importance"], first["source"]) == ("decision", 4, "agent")
    assert first["entities"][0] == "SQLite"
    assert ok("insights", "show", ids[1])["created_at"] == "2023-06-01T00:00:00.000000Z"
    assert ok("insights", "show", ids[2])["created_at"] == "2024-03-01T10:00:00.000000Z"
    fourth = ok("insights", "show", ids[3])
    assert fourth["created_at"] > "2025" and fourth["entities"][:2] == ["Ops", "Infra"]
    assert fourth["category"] == "general" and fourth["importance"] == 3


def test_bad_lines_are_reported_with_numbers_and_skipped_whole(ok, data_dir, tmp_path):
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        {"content": "good one"},                                   # 1
        "",                                                        # 2 (blank: ignored)
        "{not json",                                               # 3
        {"content": "bad category", "category": "gossip"},         # 4
        {"content": "bad importance", "importance": 9},            # 5
        {"content": "   "},                                        # 6
        {"content": "bad date", "created_at": "yesterday"},        # 7
        {"content": "typo", "cat": "fact"},                        # 8
        [1, 2],                                                    # 9
        {"content": "bad entities", "entities": [1]},              # 10
        {"content": "x" * 8001},                                   # 11
        {"type": "mystery", "content": "?"},                       # 12
        {"content": "good two", "importance": "2"},                # 13
        {"content": "<private>only private</private>"},            # 14
    )
    out = ok("import", path)
    assert out["queued"] == 2 and out["error_count"] == 11
    errors = {e["line"]: e["error"] for e in out["errors"]}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
    assert errors[3].startswith("not valid JSON")
    assert errors[4] == ("invalid category 'gossip'; valid: preference, decision, fact, "
                         "insight, context, general")
    assert errors[5] == "importance must be 1-5, got 9"
    assert errors[6].startswith("content is empty")
    assert errors[7].startswith("invalid created_at 'yesterday'")
    assert errors[8].startswith("unknown field 'cat'")
    assert errors[9] == "not a JSON object"
    assert errors[10] == "invalid entities: the list must contain only strings"
    assert errors[11].startswith("content too long (8001 bytes, max 8000)")
    assert errors[12].startswith("unknown line type 'mystery'")
    assert errors[14].startswith("content is empty once private")
    # nothing of a bad line reached the queue
    rows = queue_rows(data_dir)
    assert sorted(r["content"] for r in rows) == ["good one", "good two"]
    assert {r["hint_imp"] for r in rows} == {None, 2}


def test_secrets_are_redacted_on_import(ok, data_dir, tmp_path):
    key = "sk-proj-" + "Ab3d" * 10
    path = write_jsonl(tmp_path / "s.jsonl", {"content": f"the key is {key} keep it"})
    assert ok("import", path)["queued"] == 1
    (row,) = queue_rows(data_dir)
    assert key not in row["content"] and "[REDACTED:openai_key]" in row["content"]
    assert json.loads(row["redactions"]) == ["openai_key"]


def test_a_file_without_valid_lines_fails(run, data_dir, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", "nope", {"content": ""})
    result = run("import", path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: no valid lines in {path}")
    assert len(result.stderr.splitlines()) == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run("import", empty)
    assert result.exit_code == 1 and result.stderr == f"Error: no valid lines in {empty}\n"
    assert not (data_dir / "queue.db").exists() or queue_rows(data_dir) == []


def test_unreadable_input_and_unsupported_versions(run, tmp_path):
    result = run("import", tmp_path / "missing.jsonl")
    assert result.exit_code == 1 and "cannot read" in result.stderr
    newer = write_jsonl(tmp_path / "v2.jsonl",
                        {"type": "header", "format": "memman-export", "version": 2})
    result = run("import", newer)
    assert result.exit_code == 1 and "version 2" in result.stderr
    other = write_jsonl(tmp_path / "o.jsonl", {"type": "header", "format": "something"})
    result = run("import", other)
    assert result.exit_code == 1 and "is not a memman export" in result.stderr


def test_import_reads_stdin_and_honours_both_store_options(ok, data_dir):
    text = json.dumps({"content": "from stdin"}) + "\n"
    assert ok("import", "-", "--store", "one", input=text)["store"] == "one"
    assert ok("--store", "two", "import", "-", input=text)["store"] == "two"
    assert sorted(r["store"] for r in queue_rows(data_dir)) == ["one", "two"]


def test_import_obeys_the_write_gate(ok, run, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", {"content": "x"})
    ok("scheduler", "stop")
    result = run("import", path)
    assert result.exit_code == 1 and "Scheduler is stopped; cannot write." in result.stderr


def test_no_progress_bar_unless_stderr_is_a_terminal(run, monkeypatch, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", *({"content": f"memory {i}"} for i in range(5)))
    quiet = run("import", path)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    json.loads(quiet.stdout)
    monkeypatch.setattr("memman.cli.import_._progress_enabled", lambda: True)
    loud = run("import", path)
    assert loud.exit_code == 0 and "import" in loud.stderr
    assert json.loads(loud.stdout)["queued"] == 5  # stdout stays one JSON document


def test_import_rows_queue_behind_interactive_ones(ok, data_dir, tmp_path):
    ok("import", write_jsonl(tmp_path / "a.jsonl", {"content": "imported first"}))
    ok("remember", "remembered later")
    drained = ok("scheduler", "drain", "--limit", "1")
    assert drained["rows"][0]["facts"][0]["content"] == "remembered later"


# -- round trip -----------------------------------------------------------------------------
def test_lossless_round_trip(ok, run, data_dir, tmp_path, populated):
    first = tmp_path / "first.jsonl"
    ok("export", "-o", first)
    out = ok("import", first, "--store", "copy")
    assert out["queued"] == 4 and out["skipped_deleted"] == 1
    assert out["edges_pending"] == 4 and out["errors"] == [] and out["skipped_auto_edges"] > 0
    drained = ok("scheduler", "drain")
    assert drained["processed"] == 4 and drained["failed"] == 0
    assert drained["maintenance"]["pending_edges"] == {
        "copy": {"applied": 4, "dropped": 0, "waiting": 0}}
    assert pending_edge_count(data_dir) == 0
    second = run("--store", "copy", "export")
    assert second.exit_code == 0
    before = lines_of(first.read_text(encoding="utf-8"))
    after = lines_of(second.stdout)
    assert guaranteed(after) == guaranteed(before)
    assert len(guaranteed(after)[1]) == 4
    assert after[0]["store"] == "copy"
    assert after[0]["embed_fingerprint"] == before[0]["embed_fingerprint"]
    assert not any(m.get("deleted_at") for m in after if m["type"] == "memory")
    # the copy is a working store: recall and the graph see the restored links
    assert ok("--store", "copy", "recall", "--basic", "billing")["results"]
    linked = ok("--store", "copy", "graph", "related", populated["alice"], "--edge", "causal")
    assert [r["id"] for r in linked] == [populated["ci"]]
    # and a second round trip changes nothing either
    third = tmp_path / "third.jsonl"
    third.write_text(second.stdout, encoding="utf-8")
    ok("import", third, "--store", "again")
    ok("scheduler", "drain")
    again = lines_of(run("--store", "again", "export").stdout)
    assert guaranteed(again) == guaranteed(before)


def test_reimport_into_the_same_store_gets_new_ids_and_links_the_copies(ok, data_dir, tmp_path,
                                                                       populated):
    path = tmp_path / "dump.jsonl"
    ok("export", "-o", path)
    ok("import", path)
    drained = ok("scheduler", "drain")
    new_ids = {r["facts"][0]["content"]: r["facts"][0]["id"] for r in drained["rows"]}
    assert not set(new_ids.values()) & set(populated.values())  # the ids were taken
    alice = new_ids["Alice owns the billing service"]
    ci = new_ids["The deploy pipeline runs on GitHub Actions"]
    related = ok("graph", "related", alice, "--edge", "causal", "--depth", "1")
    assert [r["id"] for r in related] == [ci]  # the copy's link joins the copies
    assert ok("insights", "show", alice)["created_at"] == \
        ok("insights", "show", populated["alice"])["created_at"]


def test_pending_edges_wait_for_their_memories(ok, data_dir, tmp_path, populated):
    path = tmp_path / "dump.jsonl"
    ok("export", "-o", path)
    ok("import", path, "--store", "copy")
    first = ok("scheduler", "drain", "--limit", "1")
    waiting = first["maintenance"]["pending_edges"]["copy"]
    assert waiting["applied"] == 0 and waiting["waiting"] == 4
    ok("scheduler", "drain")
    assert pending_edge_count(data_dir) == 0


def test_edges_whose_memory_was_forgotten_before_the_drain_are_dropped(ok, data_dir, tmp_path,
                                                                      populated):
    path = tmp_path / "dump.jsonl"
    ok("export", "-o", path)
    ok("import", path, "--store", "copy")
    first = ok("scheduler", "drain", "--limit", "3")  # alice, ci, tabs; not pg yet
    assert first["maintenance"]["pending_edges"]["copy"] == {
        "applied": 2, "dropped": 0, "waiting": 2}
    ok("--store", "copy", "forget", populated["tabs"])
    second = ok("scheduler", "drain")
    assert second["maintenance"]["pending_edges"]["copy"] == {
        "applied": 0, "dropped": 2, "waiting": 0}
    assert pending_edge_count(data_dir) == 0


def test_edge_lines_need_known_endpoints(ok, tmp_path, remember_drained):
    existing = remember_drained("Already in the store")
    link = {"type": "edge", "edge_type": "causal", "weight": 0.5,
            "metadata": {"created_by": "claude"}}
    path = write_jsonl(
        tmp_path / "e.jsonl",
        {"type": "memory", "id": "m-1", "content": "new memory one"},
        {"type": "memory", "id": "m-2", "content": ""},
        {**link, "source_id": "m-1", "target_id": existing},
        {**link, "source_id": "m-1", "target_id": "m-2"},
        {**link, "source_id": "m-1", "target_id": "nowhere"},
        {**link, "source_id": "m-1", "target_id": "m-1"},
        {**link, "source_id": "m-1", "target_id": existing, "metadata": {"sub_type": "x"}},
        {"type": "memory", "id": "m-1", "content": "duplicate id"},
    )
    out = ok("import", path)
    assert out["queued"] == 1 and out["edges_pending"] == 1 and out["skipped_auto_edges"] == 1
    errors = {e["line"]: e["error"] for e in out["errors"]}
    assert sorted(errors) == [2, 4, 5, 6, 8]
    assert errors[4] == "edge endpoint 'm-2' was not imported (line 2)"
    assert errors[5].startswith("edge endpoint 'nowhere' is neither")
    assert errors[6] == "cannot link an insight to itself"
    assert errors[8] == "duplicate id 'm-1' (first on line 1)"
    drained = ok("scheduler", "drain")
    assert drained["maintenance"]["pending_edges"]["default"]["applied"] == 1
    assert ok("insights", "show", "m-1")["content"] == "new memory one"
    assert [r["id"] for r in ok("graph", "related", "m-1", "--edge", "causal")] == [existing]


def test_queue_show_reports_import_hints(ok, tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", {"type": "memory", "id": "abc",
                                              "content": "hinted", "created_at": "2020-01-01"})
    ok("import", path)
    hints = ok("scheduler", "queue", "show", "1")["hints"]
    assert hints["created_at"] == "2020-01-01T00:00:00.000000Z" and hints["id"] == "abc"
    assert hints["no_reconcile"] is True


def test_rows_queued_before_the_migration_still_drain():
    """A queue row without the import hint columns (an older queue.db) has no such hints."""
    import sqlite3

    from memman.worker.prepare import hints_of

    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT 'c' AS content, NULL AS hint_cat, NULL AS hint_imp, "
                       "NULL AS hint_source, NULL AS hint_entities, NULL AS hint_replaced_id, "
                       "0 AS hint_no_reconcile").fetchone()
    hints = hints_of(row)
    assert hints["created_at"] is None and hints["id"] is None
