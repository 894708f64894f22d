"""The doctor's view of 0.16 upgrades: one passing check per upgraded database."""
from pathlib import Path

from memman.upgrade.common import read_records

CHECK_NAME = "upgraded_from_0.16"


def doctor_checks(ctx) -> list[dict]:
    """Checks for ``memman doctor`` (``ctx.datadir`` is the data dir); [] when nothing
    here was ever upgraded from memman 0.16."""
    from memman.doctor.report import PASS, check

    out = []
    for entry in read_records(ctx.datadir):
        backup = entry.get("backup") or "?"
        kept = "" if Path(backup).exists() else " (since removed)"
        counts = entry.get("counts") or {}
        if entry.get("kind") == "store":
            what = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("insights", "edges", "oplog"))
            detail = (f"upgraded from memman 0.16 on {entry.get('upgraded_at')} ({what} "
                      f"kept); backup {backup}{kept}")
            out.append(check(CHECK_NAME, PASS, detail, store=entry.get("store")))
        else:
            detail = (f"queue.db upgraded from memman 0.16 on {entry.get('upgraded_at')} "
                      f"({counts.get('queue_rows', 0)} rows kept); backup {backup}{kept}")
            out.append(check(CHECK_NAME, PASS, detail))
    return out
