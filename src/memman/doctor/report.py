"""The result of a doctor run: check records, the overall verdict and the text table."""
import textwrap

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


def check(name: str, status: str, detail: str, remedy: str | None = None,
          **where) -> dict:
    """One check record; ``where`` adds ``store=``/``host=`` when it is about one.
    A remedy is kept only for checks that did not pass."""
    out = {"name": name, "status": status, "detail": detail}
    out.update({k: v for k, v in where.items() if v is not None})
    if status != PASS and remedy:
        out["remedy"] = remedy
    return out


def worst(checks: list[dict]) -> str:
    return max((c["status"] for c in checks), key=_RANK.__getitem__, default=PASS)


def summarise(checks: list[dict], **extra) -> dict:
    counts = {s: sum(c["status"] == s for c in checks) for s in (PASS, WARN, FAIL)}
    return {"overall": worst(checks), "counts": counts, "checks": checks, **extra}


def render_text(result: dict, width: int = 100) -> str:
    """A table: status, check, store or host, detail; remedies on the next line."""
    rows = [(c["status"].upper(), c["name"], c.get("store") or c.get("host") or "-",
             c["detail"], c.get("remedy")) for c in result["checks"]]
    name_w = max([len("CHECK")] + [len(r[1]) for r in rows])
    where_w = max([len("STORE")] + [len(r[2]) for r in rows])
    lead = 6 + name_w + 2 + where_w + 2
    detail_w = max(30, width - lead)
    counts = result["counts"]
    lines = [f"memman doctor: {result['overall'].upper()} ({counts['pass']} pass, "
             f"{counts['warn']} warn, {counts['fail']} fail)", "",
             f"{'':6}{'CHECK':<{name_w}}  {'STORE':<{where_w}}  DETAIL"]
    for status, name, where, detail, remedy in rows:
        wrapped = textwrap.wrap(detail, detail_w) or [""]
        lines.append(f"{status:<6}{name:<{name_w}}  {where:<{where_w}}  {wrapped[0]}")
        lines += [" " * lead + more for more in wrapped[1:]]
        if remedy:
            lines.append(" " * lead + "fix: " + remedy)
    return "\n".join(lines)
