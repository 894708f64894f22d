"""Which prompts and model produce memories now: stamped on every memory the worker
writes, and compared with stored stamps to find stale memories."""

HEURISTIC_MODEL = "heuristic"
HEURISTIC_PROMPT_VERSION = "rules-v1"


def active(settings) -> dict:
    """{"mode", "prompt_version", "model_id"} for the current configuration (no network)."""
    from memman.llm.client import llm_mode

    if llm_mode(settings) == "heuristic":
        return {"mode": "heuristic", "prompt_version": HEURISTIC_PROMPT_VERSION,
                "model_id": HEURISTIC_MODEL}
    from memman.llm.prompts import PROMPT_VERSION

    return {"mode": "llm", "prompt_version": PROMPT_VERSION,
            "model_id": settings.get("MEMMAN_LLM_MODEL_SLOW_CANONICAL")}
