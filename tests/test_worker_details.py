"""Worker details: replacement entities, no self-loops, markers are not words."""
from memman.store.sqlite import SQLiteBackend


def backend(data_dir):
    return SQLiteBackend(data_dir / "data" / "default" / "memman.db")


def test_replace_keeps_the_originals_entities_unless_new_ones_are_given(ok, remember_drained):
    mid = remember_drained("The invoices service is owned by Alice", "--entities", "Alice,invoices")
    ok("replace", mid, "The invoices service moved to the payments team")
    ok("scheduler", "drain")
    assert {"Alice", "invoices"} <= set(ok("insights", "show", mid)["entities"])
    ok("replace", mid, "The invoices service is owned by Bob", "--entities", "Bob")
    ok("scheduler", "drain")
    entities = ok("insights", "show", mid)["entities"]
    assert "Bob" in entities and "Alice" not in entities


def test_no_edge_ever_points_from_a_memory_to_itself(ok, remember_drained, data_dir):
    remember_drained("The invoice jobs failed because the worker ran out of memory")
    mid = remember_drained("We raised the worker memory limit to avoid failed invoice jobs")
    ok("replace", mid, "We raised the worker memory limit because invoice jobs failed")
    ok("scheduler", "drain")
    ok("graph", "rebuild")
    b = backend(data_dir)
    loops = b.conn.execute("SELECT count(*) FROM edges WHERE source_id = target_id").fetchone()[0]
    b.close()
    assert loops == 0


def test_redaction_markers_do_not_become_entities_or_keywords(ok, data_dir):
    ok("remember", "Deploy with password=hunter2secret through the Jenkins server")
    ok("scheduler", "drain")
    b = backend(data_dir)
    (row,) = b.conn.execute("SELECT entities, keywords FROM insights").fetchall()
    b.close()
    text = (row[0] + row[1]).lower()
    assert "redacted" not in text and "password_assignment" not in text
    assert "jenkins" in text
