"""The effective configuration of one data dir: env file values over defaults."""
from pathlib import Path

from memman.config import envfile
from memman.config.keys import FAMILIES, KEYS, truthy


class Settings:
    def __init__(self, env_file: Path, values: dict[str, str] | None = None):
        self.env_file = Path(env_file)
        self.values = envfile.read(self.env_file) if values is None else values

    def get(self, name: str) -> str | None:
        """The file's value, else the key's default (None if it has none)."""
        if name in self.values:
            return self.values[name]
        key = KEYS.get(name)
        return key.default if key else None

    def source(self, name: str) -> str:
        return "env file" if name in self.values else "default"

    def for_store(self, family: str, store: str) -> str | None:
        """Per-store value, falling back to the global key of the same meaning."""
        value = self.values.get(f"{family}_{store}")
        if value is not None:
            return value
        fallback = {
            "MEMMAN_BACKEND": "MEMMAN_DEFAULT_BACKEND",
            "MEMMAN_POSTGRES_DSN": "MEMMAN_DEFAULT_POSTGRES_DSN",
            "MEMMAN_RERANK_ENABLED": "MEMMAN_RERANK_ENABLED",
        }.get(family)
        if fallback:
            return self.get(fallback)
        return FAMILIES[family].default

    def backend_for(self, store: str) -> str:
        return self.for_store("MEMMAN_BACKEND", store) or "sqlite"

    def flag(self, name: str) -> bool:
        return truthy(self.get(name))

    def per_store(self) -> dict[str, dict[str, str]]:
        from memman.config.keys import split_family

        out: dict[str, dict[str, str]] = {}
        for name, value in self.values.items():
            family = split_family(name)
            if family:
                out.setdefault(family[1], {})[name] = value
        return out
