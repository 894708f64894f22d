"""graph export: the memory graph as JSON or Graphviz DOT."""
import os
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from memman.constants import EDGE_TYPES
from memman import outfile
from memman.graph import export as graph_export

TRICKY = 'Ünïcödé "quoted" path C:\\temp\\new and a\nsecond line'
# A DOT statement: an id, an optional "-> id", then [name=value, ...] with quoted or bare values.
QUOTED = r'"(?:[^"\\]|\\.)*"'
STATEMENT = re.compile(rf'^  ({QUOTED})(?: -> ({QUOTED}))? \[((?:\w+=(?:{QUOTED}|[\w.+-]+)'
                       rf'(?:, )?)+)\];$')
ATTR = re.compile(rf'(\w+)=({QUOTED}|[\w.+-]+)')


def unquote(text: str) -> str:
    """The text of a DOT quoted string; label escapes such as \\n stay as they are."""
    return re.sub(r'\\(["\\])', r'\1', text[1:-1])


def parse_dot(text: str) -> tuple[dict, list]:
    """{node id: attrs}, [(source, target, attrs)] of memman's DOT; fails on any other line."""
    lines = text.splitlines()
    assert lines[0].startswith("digraph ") and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if line.startswith(("  graph [", "  node [", "  edge [")):
            continue
        match = STATEMENT.match(line)
        assert match, f"not a DOT statement: {line!r}"
        attrs = {k: unquote(v) if v.startswith('"') else v for k, v in ATTR.findall(match[3])}
        if match[2] is None:
            nodes[unquote(match[1])] = attrs
        else:
            edges.append((unquote(match[1]), unquote(match[2]), attrs))
    return nodes, edges


def stdout_of(run, *args) -> str:
    """stdout of a successful command that prints no JSON (a DOT export)."""
    result = run(*args)
    assert result.exit_code == 0 and result.stderr == "", result
    return result.stdout


@pytest.fixture
def graph(ok, remember_drained):
    a = remember_drained("Alice owns the billing service", "--cat", "decision", "--imp", "5")
    b = remember_drained("The billing service is written in Go", "--cat", "fact", "--imp", "1")
    c = remember_drained(TRICKY, "--cat", "insight")
    ok("graph", "link", a, c, "--type", "causal", "--weight", "0.9")
    return a, b, c


# -- JSON ---------------------------------------------------------------------------------
def test_json_lists_nodes_and_the_edges_between_them(ok, run, graph):
    a, b, c = graph
    out = ok("graph", "export")
    assert out == ok("graph", "export", "--format", "json")
    assert out["store"] == "default" and set(out) == {"store", "nodes", "edges"}
    nodes = {n["id"]: n for n in out["nodes"]}
    assert set(nodes) == {a, b, c}
    assert nodes[a]["category"] == "decision" and nodes[a]["importance"] == 5
    assert nodes[c]["content"] == TRICKY and "\n" not in nodes[c]["label"]
    assert nodes[b]["deleted_at"] is None
    assert out["edges"]
    for edge in out["edges"]:
        assert {edge["source"], edge["target"]} <= set(nodes)
        assert edge["type"] in EDGE_TYPES and 0 <= edge["weight"] <= 1
    manual = {(e["source"], e["target"]) for e in out["edges"] if e["manual"]}
    assert manual == {(a, c), (c, a)}
    assert run("graph", "export").stderr == ""


def test_forgotten_memories_are_left_out_unless_asked_for(ok, run, graph):
    a, b, c = graph
    ok("forget", b)
    out = ok("graph", "export")
    assert b not in {n["id"] for n in out["nodes"]}
    assert all(b not in (e["source"], e["target"]) for e in out["edges"])
    full = ok("graph", "export", "--include-deleted")
    forgotten = [n for n in full["nodes"] if n["id"] == b]
    assert len(forgotten) == 1 and forgotten[0]["deleted_at"]
    nodes, _ = parse_dot(stdout_of(run, "graph", "export", "--format", "dot",
                                   "--include-deleted"))
    assert "dashed" in nodes[b]["style"] and "dashed" not in nodes[a].get("style", "")




def test_edge_filter_keeps_only_the_named_types(ok, run, graph):
    out = ok("graph", "export", "--edge", "causal")
    assert out["edges"] and {e["type"] for e in out["edges"]} == {"causal"}
    assert len(out["nodes"]) == 3  # nodes are never filtered
    bad = run("graph", "export", "--edge", "bogus")
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr == ("Error: invalid edge type 'bogus'; valid: temporal, semantic, "
                          "causal, entity\n")


def test_an_empty_store_is_an_empty_graph(ok, run):
    ok("store", "create", "empty")
    assert ok("--store", "empty", "graph", "export") == {"store": "empty", "nodes": [],
                                                         "edges": []}
    nodes, edges = parse_dot(stdout_of(run, "--store", "empty", "graph", "export",
                                     "--format", "dot"))
    assert nodes == {} and edges == []
    missing = run("--store", "ghost", "graph", "export")
    assert missing.exit_code == 1 and missing.stderr == "Error: store 'ghost' does not exist\n"


# -- DOT ----------------------------------------------------------------------------------
def test_dot_draws_nodes_by_category_and_importance(run, graph):
    a, b, c = graph
    nodes, edges = parse_dot(stdout_of(run, "graph", "export", "--format", "dot"))
    assert set(nodes) == {a, b, c}
    assert nodes[a]["shape"] == "box" and nodes[b]["shape"] == "note"
    assert nodes[c]["shape"] == "hexagon"
    assert float(nodes[a]["penwidth"]) > float(nodes[b]["penwidth"])
    assert nodes[a]["label"] == "Alice owns the billing\\nservice"  # \n: DOT's line break
    for source, target, attrs in edges:
        assert {source, target} <= set(nodes)
        assert re.fullmatch(r"\d\.\d\d( manual)?", attrs["label"])
    # The manual causal link is stored both ways and drawn once, arrows at both ends.
    causal = [(s, t, x) for s, t, x in edges if x["tooltip"].startswith("causal")]
    assert len(causal) == 1 and {causal[0][0], causal[0][1]} == {a, c}
    assert causal[0][2]["dir"] == "both" and causal[0][2]["label"] == "0.90 manual"


def test_dot_escapes_quotes_backslashes_newlines_and_keeps_non_ascii(run, graph):
    c = graph[2]
    text = stdout_of(run, "graph", "export", "--format", "dot")
    line = next(ln for ln in text.splitlines() if ln.startswith(f'  "{c}" ['))
    assert '\\"quoted\\"' in line and "C:\\\\temp\\\\new" in line and "Ünïcödé" in line
    nodes, _ = parse_dot(text)
    tooltip = nodes[c]["tooltip"]
    assert tooltip.endswith('Ünïcödé "quoted" path C:\\temp\\new and a second line')


def test_quote_is_exact():
    assert graph_export.quote('a "b" \\c\nd\te é') == '"a \\"b\\" \\\\c d e é"'
    assert graph_export.quote("\\") == '"\\\\"'  # never ends in an escaped quote


def test_long_content_is_cut_in_the_label_but_kept_in_json():
    long = "word " * 100
    label = graph_export.short_label(long)
    assert len(label) <= graph_export.LABEL_CHARS and label.endswith("…")
    node = {"id": "x", "label": label, "content": long, "category": "nope",
            "importance": 3, "deleted_at": None}
    nodes, _ = parse_dot(graph_export.to_dot({"store": "s", "nodes": [node], "edges": []}))
    assert nodes["x"]["shape"] == "oval"  # unknown categories look like general
    assert len(nodes["x"]["label"].replace("\\n", " ")) <= graph_export.LABEL_CHARS + 5


def test_dot_edge_directions_and_styles():
    def node(i):
        return {"id": i, "label": i, "content": i, "category": "fact", "importance": 3,
                "deleted_at": None}

    def edge(s, t, kind, weight):
        return {"source": s, "target": t, "type": kind, "weight": weight, "manual": False}

    data = {"store": "s", "nodes": [node("a"), node("b"), node("c")],
            "edges": [edge("a", "b", "semantic", 0.7), edge("b", "a", "semantic", 0.8),
                      edge("b", "c", "causal", 0.5), edge("a", "c", "temporal", 0.25)]}
    _, edges = parse_dot(graph_export.to_dot(data))
    drawn = {(s, t): x for s, t, x in edges}
    assert set(drawn) == {("a", "b"), ("b", "c"), ("a", "c")}
    assert drawn["a", "b"]["dir"] == "none" and drawn["a", "b"]["label"] == "0.80"
    assert drawn["b", "c"]["dir"] == "forward" and drawn["b", "c"]["style"] == "bold"
    assert drawn["a", "c"]["style"] == "dotted" and drawn["a", "b"]["style"] == "solid"


# -- output -------------------------------------------------------------------------------
def test_output_file_is_written_whole_and_reported(ok, run, graph, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "graph.dot"
    path.write_text("old")
    out = ok("graph", "export", "--format", "dot", "--output", path)
    assert out["path"] == str(path) and out["format"] == "dot" and out["nodes"] == 3
    assert out["edges"] > 0
    assert path.read_text(encoding="utf-8") == stdout_of(run, "graph", "export",
                                                         "--format", "dot")
    assert os.listdir(folder) == ["graph.dot"]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file(ok, run, graph, tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "graph.json"
    path.write_text("old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    # Only the output writer's view of os fails, so the store itself is unaffected.
    monkeypatch.setattr(outfile, "os", SimpleNamespace(**{**vars(os), "replace": refuse}))
    result = run("graph", "export", "-o", path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: cannot write {path}: No space left on device\n"
    assert path.read_text() == "old" and os.listdir(folder) == ["graph.json"]


@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "Error: Invalid value for '--format': 'xml' is not one of"),
    (["--output", "/nonexistent-dir/graph.dot"],
     "Error: cannot write /nonexistent-dir/graph.dot: No such file or directory"),
])
def test_bad_input_is_one_line(run, graph, args, message):
    result = run("graph", "export", *args)
    assert result.exit_code != 0 and result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_output_to_a_directory_is_refused(run, graph, tmp_path):
    result = run("graph", "export", "-o", tmp_path)
    assert result.exit_code == 1 and result.stderr == f"Error: cannot write {tmp_path}: " \
                                                      "it is a directory\n"


# -- Graphviz -----------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz 'dot' is not on PATH (apt-get install graphviz)")
def test_graphviz_renders_the_export(ok, graph, tmp_path):
    path = tmp_path / "graph.dot"
    ok("graph", "export", "--format", "dot", "-o", path, "--include-deleted")
    proc = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.count('class="node"') == 3
    assert "Alice owns the billing" in proc.stdout
    assert "&quot;quoted&quot;" in proc.stdout and "Ünïcödé" in proc.stdout
