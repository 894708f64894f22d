"""``insights review``: stored memories whose text looks like a poor long-term memory.

The flags are the remember-time quality warnings (memman.intake.quality): receipts,
state snapshots, line-number and symbol:line references, "currently" and "as of"
notes, back-references and the like. Flagged memories are ranked worst first: by
the summed weight of their flags, then by how many flags, then lower importance,
then older.
"""
from memman.intake.quality import quality_warnings, severity

ACTIONS = [
    "memman replace ID TEXT: rewrite it as a durable fact (drop the receipt, the line "
    "numbers or the date-bound state)",
    "memman forget ID: drop it when nothing durable is left",
    "memman insights protect ID: keep it as it is (review still lists it)",
]


def review(backend, limit: int) -> dict:
    flagged = []
    for insight in backend.iter_insights(include_deleted=False):
        warnings = quality_warnings(insight.content)
        if warnings:
            flagged.append((-severity(warnings), -len(warnings), insight.importance,
                            insight.created_at, insight.id, insight, warnings))
    flagged.sort(key=lambda f: f[:5])
    results = [{"id": f[5].id, "content": f[5].content, "importance": f[5].importance,
                "quality_warnings": f[6], "severity": -f[0]} for f in flagged[:limit]]
    return {"review_results": results, "total_flagged": len(flagged), "actions": ACTIONS}
