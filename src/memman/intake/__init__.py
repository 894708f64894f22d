"""What happens to a memory before it is queued: validation of the text and its
hints (``validate``), credential redaction (``redact``) and advisory quality
warnings (``quality``). Everything here is pure and stdlib-only: it runs on the
agent's hot path."""
