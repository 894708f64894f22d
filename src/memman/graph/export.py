"""The memory graph as a picture or as data: Graphviz DOT, or one JSON document.

``collect`` reads one consistent snapshot of a store: its memories (nodes) and
the edges between them. Forgotten memories are left out unless asked for; an
edge is kept only when both of its memories are. JSON lists every stored edge as
it is (most types are stored once per direction). DOT draws a pair of opposite
edges of one type as a single line: undirected, except causal pairs, which get
arrows at both ends; a lone edge is an arrow from source to target.
"""
import json
import textwrap

LABEL_CHARS = 80  # content shown in a node before it is cut with "…"
LABEL_WIDTH = 22  # characters per line of a node label
TOOLTIP_CHARS = 300

# category -> (shape, fill colour); anything else is drawn like "general"
CATEGORY_STYLE = {
    "preference": ("ellipse", "#f8cecc"),
    "decision": ("box", "#dae8fc"),
    "fact": ("note", "#fff2cc"),
    "insight": ("hexagon", "#d5e8d4"),
    "context": ("folder", "#e1d5e7"),
    "general": ("oval", "#f5f5f5"),
}
# edge type -> (line style, colour)
EDGE_STYLE = {
    "temporal": ("dotted", "#999999"),
    "entity": ("dashed", "#2e7d32"),
    "semantic": ("solid", "#1565c0"),
    "causal": ("bold", "#c62828"),
}
DELETED_FILL = "#eeeeee"


def collect(backend, store: str, *, include_deleted: bool = False,
            edge_types: tuple[str, ...] = ()) -> dict:
    """{"store", "nodes", "edges"}; ``edge_types`` limits the edges (empty: all)."""
    from memman.intake.edge import is_manual

    with backend.read_snapshot():
        nodes = [_node(i) for i in backend.iter_insights(include_deleted=include_deleted)]
        ids = {n["id"] for n in nodes}
        edges = [{"source": e.source_id, "target": e.target_id, "type": e.edge_type,
                  "weight": e.weight, "manual": is_manual(e.metadata),
                  "metadata": e.metadata, "created_at": e.created_at}
                 for e in backend.iter_edges()
                 if e.source_id in ids and e.target_id in ids
                 and (not edge_types or e.edge_type in edge_types)]
    return {"store": store, "nodes": nodes, "edges": edges}


def _node(insight) -> dict:
    return {"id": insight.id, "label": short_label(insight.content),
            "content": insight.content, "category": insight.category,
            "importance": insight.importance,
            "effective_importance": insight.effective_importance,
            "entities": list(insight.entities or []), "source": insight.source,
            "created_at": insight.created_at, "deleted_at": insight.deleted_at}


def short_label(content: str, limit: int = LABEL_CHARS) -> str:
    """Content on one line (whitespace collapsed), at most ``limit`` characters: cut
    at a word boundary when one is near enough, and marked with "…"."""
    flat = " ".join(content.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def to_json(graph: dict) -> str:
    return json.dumps(graph, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- DOT ----------------------------------------------------------------------------------
def quote(text: str) -> str:
    """A DOT double-quoted string showing ``text`` literally on one line.

    Backslashes and quotes are escaped (a lone backslash would otherwise start an
    escape such as ``\\N``); line breaks and other control characters become spaces.
    Non-ASCII text is kept: the output is UTF-8, Graphviz's default charset.
    """
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(text: str) -> str:
    """A quoted, centred multi-line label: lines joined with DOT's ``\\n`` break."""
    lines = textwrap.wrap(text, LABEL_WIDTH, break_long_words=True) or [""]
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines) + '"'


def to_dot(graph: dict) -> str:
    out = [f"digraph {quote('memman ' + graph['store'])} {{",
           f"  graph [label={quote('memman store ' + graph['store'])}, labelloc=t, "
           'fontname="Helvetica", fontsize=14, overlap=false, splines=true];',
           '  node [fontname="Helvetica", fontsize=10, style=filled, margin="0.15,0.08"];',
           '  edge [fontname="Helvetica", fontsize=8];']
    for node in graph["nodes"]:
        out.append(f"  {quote(node['id'])} [{_node_attrs(node)}];")
    for (source, target), attrs in _dot_edges(graph["edges"]):
        out.append(f"  {quote(source)} -> {quote(target)} [{attrs}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _node_attrs(node: dict) -> str:
    shape, fill = CATEGORY_STYLE.get(node["category"], CATEGORY_STYLE["general"])
    importance = node["importance"] if isinstance(node["importance"], int) else 3
    attrs = {"label": _label(node["label"]), "shape": shape,
             "fillcolor": quote(fill), "penwidth": f"{0.5 * importance:g}",
             "fontsize": str(8 + importance),
             "tooltip": quote(f"[{node['category']}, importance {importance}] "
                              + short_label(node["content"], TOOLTIP_CHARS))}
    if node.get("deleted_at"):
        attrs.update(style='"filled,dashed"', fillcolor=quote(DELETED_FILL),
                     fontcolor='"#888888"')
    return ", ".join(f"{k}={v}" for k, v in attrs.items())


def _dot_edges(edges: list[dict]):
    """((source, target), attrs) per drawn line, opposite edges of a type merged."""
    by_key: dict[tuple, dict] = {}
    for edge in edges:
        key = (edge["source"], edge["target"], edge["type"])
        if key not in by_key or edge["weight"] > by_key[key]["weight"]:
            by_key[key] = edge
    drawn = set()
    for (source, target, edge_type), edge in by_key.items():
        if (source, target, edge_type) in drawn:
            continue
        reverse = by_key.get((target, source, edge_type))
        weight = edge["weight"]
        direction = "forward"
        if reverse is not None:
            drawn.add((target, source, edge_type))
            weight = max(weight, reverse["weight"])
            direction = "both" if edge_type == "causal" else "none"
        style, colour = EDGE_STYLE.get(edge_type, ("solid", "#000000"))
        manual = edge["manual"] or (reverse is not None and reverse["manual"])
        label = f"{weight:.2f}" + (" manual" if manual else "")
        attrs = (f"label={quote(label)}, style={style}, color={quote(colour)}, "
                 f"fontcolor={quote(colour)}, dir={direction}, "
                 f"tooltip={quote(f'{edge_type} {weight:.2f}')}")
        yield (source, target), attrs


# -- writing ------------------------------------------------------------------------------
def write_atomic(path: str, text: str) -> str:
    """Write ``text`` to ``path`` through a temporary file and a rename; returns the
    absolute path. Raises MemmanError with a one-line reason."""
    from memman.outfile import atomic_text_file

    with atomic_text_file(path) as (target, fh):
        fh.write(text)
    return str(target)
