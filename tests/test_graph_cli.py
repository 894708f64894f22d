"""graph link / graph related through the CLI."""
import json

import pytest

from memman.store.sqlite import SQLiteBackend


def backend(data_dir, store="default"):
    return SQLiteBackend(data_dir / "data" / store / "memman.db")


def edges_between(data_dir, a, b, edge_type=None):
    b_ = backend(data_dir)
    try:
        return {(e.source_id, e.target_id): e for e in b_.edges_of(a)
                if {e.source_id, e.target_id} == {a, b}
                and (edge_type is None or e.edge_type == edge_type)}
    finally:
        b_.close()


def snapshot(data_dir):
    """Everything a failed link must leave untouched: edges and oplog."""
    b = backend(data_dir)
    try:
        edges = sorted((e.source_id, e.target_id, e.edge_type, e.weight,
                        json.dumps(e.metadata, sort_keys=True))
                       for e in b.iter_edges())
        ops = [(o.operation, o.insight_id, o.detail) for o in b.list_oplog(since=None, limit=10000)]
        return edges, ops
    finally:
        b.close()


@pytest.fixture
def three(remember_drained):
    a = remember_drained("Alice owns the billing service", "--imp", "5")
    b = remember_drained("The billing service is written in Go", "--imp", "2")
    c = remember_drained("Go services deploy with Nomad", "--imp", "4")
    return a, b, c


# -- link: validation -------------------------------------------------------------------
@pytest.mark.parametrize("flags, message", [
    (["--type", "bogus"],
     "invalid edge type 'bogus'; valid: temporal, semantic, causal, entity"),
    (["--weight", "1.5"], "weight must be between 0 and 1, got 1.5"),
    (["--weight", "-0.1"], "weight must be between 0 and 1, got -0.1"),
    (["--weight", "heavy"], "weight must be between 0 and 1, got heavy"),
    (["--weight", "nan"], "weight must be between 0 and 1, got nan"),
    (["--meta", "[1, 2]"], "--meta must be a JSON object"),
    (["--meta", '"text"'], "--meta must be a JSON object"),
    (["--meta", "{broken"], "--meta must be a JSON object (not valid JSON)"),
])
def test_link_rejects_bad_flags_with_one_line_and_writes_nothing(run, data_dir, three, flags,
                                                                 message):
    a, b, _ = three
    before = snapshot(data_dir)
    result = run("graph", "link", a, b, *flags)
    assert result.exit_code == 1, result
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert snapshot(data_dir) == before


def test_link_rejects_self_links_and_unknown_or_forgotten_ids(run, ok, data_dir, three):
    a, b, c = three
    ok("forget", c)
    before = snapshot(data_dir)
    cases = [((a, a), "cannot link an insight to itself"),
             ((a, "nope"), "insight 'nope' not found"),
             (("nope", a), "insight 'nope' not found"),
             ((a, c), f"insight '{c}' not found")]
    for (src, dst), message in cases:
        result = run("graph", "link", src, dst)
        assert result.exit_code == 1 and result.stderr == f"Error: {message}\n", result
        assert result.stdout == ""
    assert snapshot(data_dir) == before


def test_link_in_a_store_that_does_not_exist(run, data_dir):
    result = run("--store", "ghost", "graph", "link", "a", "b")
    assert result.exit_code == 1 and result.stderr == "Error: insight 'a' not found\n"
    assert not (data_dir / "data" / "ghost").exists()


def test_link_obeys_the_write_gate(run, ok, data_dir, three):
    a, b, _ = three
    ok("scheduler", "stop")
    before = snapshot(data_dir)
    result = run("graph", "link", a, b)
    assert result.exit_code == 1
    assert result.stderr == ("Error: Scheduler is stopped; cannot create edges. "
                             "Run 'memman scheduler start' to enable.\n")
    assert snapshot(data_dir) == before


# -- link: writes ---------------------------------------------------------------------------
def test_link_writes_both_directions_and_logs(ok, data_dir, three):
    a, _, c = three
    out = ok("graph", "link", a, c, "--type", "causal", "--weight", "0.7",
             "--meta", '{"why": "ownership"}')
    assert out == {"status": "linked", "source_id": a, "target_id": c, "edge_type": "causal",
                   "weight": 0.7, "metadata": {"created_by": "claude", "why": "ownership"}}
    edges = edges_between(data_dir, a, c, "causal")
    assert set(edges) == {(a, c), (c, a)}
    for edge in edges.values():
        assert edge.weight == 0.7
        assert edge.metadata == {"created_by": "claude", "why": "ownership"}
    entries = ok("log", "list")["entries"]
    link = [e for e in entries if e["operation"] == "link"]
    assert len(link) == 1 and link[0]["insight_id"] == a and c in link[0]["detail"]


def test_link_defaults_and_a_callers_created_by_is_kept(ok, data_dir, three):
    a, b, _ = three
    out = ok("graph", "link", a, b, "--meta", '{"created_by": "manual"}')
    assert out["edge_type"] == "semantic" and out["weight"] == 0.5
    assert out["metadata"] == {"created_by": "manual"}
    assert "warning" not in out


def test_a_higher_existing_weight_is_kept_with_a_warning(ok, data_dir, three):
    a, _, c = three
    ok("graph", "link", a, c, "--type", "causal", "--weight", "0.9")
    out = ok("graph", "link", a, c, "--type", "causal", "--weight", "0.3",
             "--meta", '{"note": "second"}')
    assert out["weight"] == 0.9
    assert "0.9" in out["warning"] and "kept" in out["warning"]
    for edge in edges_between(data_dir, a, c, "causal").values():
        assert edge.weight == 0.9 and edge.metadata == {"created_by": "claude", "note": "second"}
    raised = ok("graph", "link", a, c, "--type", "causal", "--weight", "1")
    assert raised["weight"] == 1.0 and "warning" not in raised


def test_linking_over_an_automatic_edge_makes_it_manual(ok, data_dir, three):
    a, b, _ = three
    (auto,) = {e.weight for e in edges_between(data_dir, a, b, "temporal").values()}
    assert auto > 0.2
    out = ok("graph", "link", a, b, "--type", "temporal", "--weight", "0.2")
    assert out["weight"] == auto and "warning" in out
    db = backend(data_dir)
    try:
        # manual now: the worker's clean-up of derived edges leaves it alone
        db.delete_auto_edges_of(a)
        kept = [e for e in db.edges_of(a) if e.edge_type == "temporal" and b in
                (e.source_id, e.target_id)]
    finally:
        db.close()
    assert len(kept) == 2 and all(e.metadata["created_by"] == "claude" for e in kept)


# -- related --------------------------------------------------------------------------------
def test_related_follows_one_edge_type_to_the_given_depth(ok, three):
    a, b, c = three
    ok("graph", "link", a, b, "--type", "causal")
    ok("graph", "link", b, c, "--type", "causal")
    near = ok("graph", "related", a, "--edge", "causal", "--depth", "1")
    assert [(r["id"], r["depth"], r["via_edge_type"]) for r in near] == [(b, 1, "causal")]
    far = ok("graph", "related", a, "--edge", "causal")
    assert [(r["id"], r["depth"]) for r in far] == [(b, 1), (c, 2)]
    assert set(far[0]) == {"id", "content", "category", "importance", "depth", "via_edge_type"}
    assert far[1]["content"] == "Go services deploy with Nomad" and far[1]["importance"] == 4
    # edges are followed in both directions
    back = ok("graph", "related", c, "--edge", "causal", "--depth", "2")
    assert [(r["id"], r["depth"]) for r in back] == [(b, 1), (a, 2)]


def test_related_sorts_by_depth_then_importance(ok, three):
    a, b, c = three
    # all three are close in time: temporal edges join every pair at depth 1
    out = ok("graph", "related", b)
    assert [(r["id"], r["depth"]) for r in out] == [(a, 1), (c, 1)]  # importance 5, then 4
    assert all(r["via_edge_type"] for r in out)


def test_related_excludes_forgotten_memories_and_never_walks_through_them(ok, three):
    a, b, c = three
    ok("graph", "link", a, b, "--type", "causal")
    ok("graph", "link", b, c, "--type", "causal")
    ok("forget", b)
    assert ok("graph", "related", a, "--edge", "causal", "--depth", "5") == []
    assert b not in [r["id"] for r in ok("graph", "related", a, "--depth", "5")]


def test_related_never_walks_through_a_forgotten_memory_with_stray_edges(ok, data_dir, three):
    from memman.store.model import Edge

    a, b, c = three
    ok("forget", b)
    db = backend(data_dir)
    try:  # edges left behind by an older build
        for x, y in ((a, b), (b, a), (b, c), (c, b)):
            db.upsert_edge(Edge(x, y, "causal", 0.9, {"created_by": "claude"}))
    finally:
        db.close()
    assert ok("graph", "related", a, "--edge", "causal", "--depth", "5") == []


def test_related_errors(run, ok, three):
    a, b, _ = three
    for args, message in [
        (["nope"], "insight 'nope' not found"),
        ([a, "--depth", "0"], "depth must be between 1 and 5, got 0"),
        ([a, "--depth", "6"], "depth must be between 1 and 5, got 6"),
        ([a, "--edge", "friendship"],
         "invalid edge type 'friendship'; valid: temporal, semantic, causal, entity"),
    ]:
        result = run("graph", "related", *args)
        assert result.exit_code == 1 and result.stderr == f"Error: {message}\n", result
    ok("forget", b)
    result = run("graph", "related", b)
    assert result.exit_code == 1 and result.stderr == f"Error: insight '{b}' not found\n"


def test_related_with_no_edges_is_an_empty_list(ok, remember_drained):
    only = remember_drained("A lonely memory")
    assert ok("graph", "related", only) == []


def test_manual_authors_match_the_stores_protected_authors():
    from memman.intake.edge import MANUAL_EDGE_AUTHORS
    from memman.store.sqlite import _PROTECTED_EDGE_AUTHORS

    assert tuple(MANUAL_EDGE_AUTHORS) == tuple(_PROTECTED_EDGE_AUTHORS)
