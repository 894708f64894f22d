"""``memman doctor``: health checks over the data dir, its stores and its wiring.

Each check returns ``{"name", "status" (pass|warn|fail), "detail", "remedy"?}``
(plus ``store`` or ``host`` when it is about one). Checks only read (opening a
writable store or queue brings its schema up to date, as every command does; a
read-only one is opened read-only), and nothing goes over the network unless
``probe`` is asked for. Modules: ``store_checks`` (one store's database), ``system_checks``
(queue, scheduler, env file, hook files), ``probes`` (one call to the LLM and to
the embedder), ``report`` (the result shape and the text table).
"""
from memman.doctor.context import DoctorContext


def run(ctx: DoctorContext, *, store: str | None = None, probe: bool = False) -> dict:
    """Every check; ``store`` limits the store checks to that store."""
    from memman.doctor import probes, report, store_checks, system_checks

    checks = system_checks.run(ctx)
    stores = [store] if store else store_checks.stores_to_check(ctx)
    for name in stores:
        checks += store_checks.run(ctx, name)
    if probe:
        checks += probes.run(ctx)
    return report.summarise(checks, stores=stores, probed=probe)


__all__ = ["DoctorContext", "run"]
