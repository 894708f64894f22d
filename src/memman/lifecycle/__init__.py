"""Memory lifecycle: how long a memory is kept and what happens to its old versions.

``retention`` holds effective importance, immunity, prune candidates and the rule
for what counts as an access; ``review`` ranks stored memories by content-quality
flags; ``history`` lists a memory's earlier versions and restores one. Each module
works through backend verbs only and imports nothing heavy (recall uses
``retention`` on its hot path).
"""
