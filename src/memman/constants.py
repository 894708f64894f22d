"""The contract's fixed vocabularies and limits, importable at no cost by the hot path."""
CATEGORIES = ("preference", "decision", "fact", "insight", "context", "general")
SOURCES = ("user", "agent", "external")
EDGE_TYPES = ("temporal", "semantic", "causal", "entity")
INTENTS = ("WHY", "WHEN", "ENTITY", "GENERAL")
MAX_CONTENT_BYTES = 8000
MAX_ENTITY_CHARS = 200
MAX_ENTITIES = 50
DEFAULT_CATEGORY = "general"
DEFAULT_IMPORTANCE = 3
DEFAULT_SOURCE = "user"
