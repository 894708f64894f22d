"""The write-ahead queue between the hot path and the worker (``queue.db``).

``remember`` and ``replace`` append rows here and return at once; the drain worker
claims them in order. Row states: pending -> claimed -> done, or back to pending
with back-off after a failure, or failed after MAX_ATTEMPTS; ``stale`` parks rows
that waited a week without being tried. ``worker_runs`` records each drain.
"""
