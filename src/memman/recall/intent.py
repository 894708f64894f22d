"""What kind of answer a query wants, and how recall weighs things for each kind.

Every kind follows time (temporal edges: the same session or conversation); WHY
follows causal links first, ENTITY shared entities first, WHEN and GENERAL time first.
The intent only shifts weights: results are always in score order.
"""
import re

INTENTS = ("WHY", "WHEN", "ENTITY", "GENERAL")

_CUES = {
    "WHY": r"\b(why|reasons?|because|causes?|caused|motivations?|rationale|how come|"
           r"what made|what led)\b",
    "WHEN": r"\b(when|time|date|dates|before|after|during|timeline|history|sequence|"
            r"what year|which year|what day|what month|how long ago|since when|first|last)\b",
    "ENTITY": r"\b(what is|what's|who is|who's|who are|tell me about|describe|about|"
              r"what does)\b",
}
_COMPILED: dict[str, re.Pattern] = {}

# Edge-type weights for the graph walk: how much of a memory's relevance flows to a
# neighbour over each kind of edge. Temporal edges join what was written in the same
# work session or conversation, where the context of a match (the answer after the
# question, the rest of the task) usually sits, so they carry well for every intent;
# causal edges lead WHY, entity edges (already weighted by how rare the entity is)
# lead ENTITY; semantic neighbours are mostly found by the vector search already, so
# they add little.
EDGE_WEIGHTS = {
    "WHY": {"causal": 1.0, "temporal": 0.7, "entity": 0.3, "semantic": 0.2},
    "WHEN": {"causal": 0.5, "temporal": 1.0, "entity": 0.3, "semantic": 0.2},
    "ENTITY": {"causal": 0.5, "temporal": 0.7, "entity": 1.0, "semantic": 0.2},
    "GENERAL": {"causal": 0.5, "temporal": 1.0, "entity": 0.3, "semantic": 0.2},
}

HINTS = {
    "WHY": "Causal question: follow the chain of reasons in meta.order (cause before effect).",
    "WHEN": "Time question: meta.order lists these memories oldest first; check dates.",
    "ENTITY": "Entity question: combine what these memories say about it.",
    "GENERAL": "Synthesize from the most relevant memories; verify anything that may have "
               "changed.",
}


def detect(query: str) -> str:
    """The intent with the most cue matches; ties and no cues give GENERAL."""
    text = query.lower()
    counts = {}
    for intent, pattern in _CUES.items():
        compiled = _COMPILED.get(intent)
        if compiled is None:
            compiled = _COMPILED[intent] = re.compile(pattern)
        counts[intent] = len(compiled.findall(text))
    best = max(counts.values())
    winners = [i for i, n in counts.items() if n == best]
    return winners[0] if best > 0 and len(winners) == 1 else "GENERAL"
