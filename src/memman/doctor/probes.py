"""``doctor --probe``: one tiny call to the configured LLM and to each remote embedder.

The only doctor checks that use the network, and only when asked: a fast-model
completion of "Reply with exactly: ok", and one embedding of "probe" by the env's
embedder and by each other remote embedder a store is bound to (its fingerprint).
Zero-config parts are not called: there is nothing remote to probe.
"""
from memman.doctor.report import FAIL, PASS, check
from memman.errors import MemmanError

PROBE_PROMPT = "Reply with exactly: ok"
PROBE_TEXT = "probe"
PROBE_MAX_TOKENS = 16


def run(ctx) -> list[dict]:
    return [llm_probe(ctx), *embed_probes(ctx)]


def llm_probe(ctx) -> dict:
    from memman.llm.client import from_settings

    client = from_settings(ctx.settings, fast_timeout=10.0, retries=0)
    if client is None:
        return check("llm_probe", PASS, "zero-config: nothing to probe")
    model = client.model_for("fast")
    fix = ctx.memman("config", "show")
    try:
        with client:
            answer = client.complete("fast", "You are a health check.", PROBE_PROMPT,
                                     max_tokens=PROBE_MAX_TOKENS, json_mode=False)
    except MemmanError as exc:
        return check("llm_probe", FAIL, f"{model} at {client.endpoint}: {exc}", fix)
    if not answer.strip():
        return check("llm_probe", FAIL, f"{model} at {client.endpoint} answered nothing", fix)
    return check("llm_probe", PASS, f"{model} at {client.endpoint} answered "
                 f"{answer.strip()[:20]!r}")


def _embedders(ctx) -> list[tuple[str, object]]:
    """(who uses it, embedder) for the env's embedder and every other store fingerprint,
    one per provider/model, remote ones only."""
    from memman.doctor.store_checks import stores_to_check
    from memman.embed.registry import for_fingerprint, from_settings, is_remote, parse_fingerprint
    from memman.store.open import open_store

    found: dict[tuple, tuple[str, object]] = {}
    env = from_settings(ctx.settings)
    if is_remote(env.provider):
        found[(env.provider, env.model)] = ("new stores", env)
    for store in stores_to_check(ctx):
        try:
            backend = open_store(ctx.datadir, ctx.settings, store)
        except MemmanError:
            continue  # reported by the store checks
        try:
            fp = parse_fingerprint(backend.get_meta("embed_fingerprint"))
        except MemmanError:
            fp = None
        finally:
            backend.close()
        if fp and is_remote(fp["provider"]):
            key = (fp["provider"], fp["model"])
            if key in found:
                who, embedder = found[key]
                if embedder.dim is None:  # prefer the store's: it knows the dim to expect
                    found[key] = (f"{who}, store {store}", for_fingerprint(fp, ctx.settings))
                else:
                    found[key] = (f"{who}, store {store}", embedder)
            else:
                found[key] = (f"store {store}", for_fingerprint(fp, ctx.settings))
    return list(found.values())


def embed_probes(ctx) -> list[dict]:
    try:
        embedders = _embedders(ctx)
    except MemmanError as exc:
        return [check("embed_probe", FAIL, str(exc), ctx.memman("config", "show"))]
    if not embedders:
        return [check("embed_probe", PASS, "zero-config: nothing to probe")]
    out = []
    for who, embedder in embedders:
        name = f"{embedder.provider}/{embedder.model}"
        try:
            vector = embedder.embed_one(PROBE_TEXT)
        except MemmanError as exc:
            out.append(check("embed_probe", FAIL, f"{name} ({who}): {exc}",
                             ctx.memman("config", "show")))
            continue
        out.append(check("embed_probe", PASS, f"{name} ({who}) returned a "
                         f"{len(vector)}-dim vector"))
    return out
