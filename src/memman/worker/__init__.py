"""The background worker: drains queue.db into the stores.

``drain`` owns one pass (the exclusive drain lock, claiming rows, failures and
back-off, heartbeats, maintenance); ``pipeline`` turns one queued row into stored
memories inside one store transaction.
"""
