"""Word-level text helpers shared by recall and the worker (stdlib only)."""
import re

WORD_RE = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in
into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
yourself yourselves s t don ll ve re d m
""".split())


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text)]


def query_terms(text: str) -> list[str]:
    """Distinct lowercase words of a query, stopwords dropped unless nothing else is left."""
    all_words = list(dict.fromkeys(words(text)))
    content = [w for w in all_words if w not in STOPWORDS]
    return content or all_words
