"""registry: which embedder the env file configures, which a store is bound to, what
text is embedded, and the fingerprint's JSON form. No network anywhere here."""
import json
import subprocess
import sys

import numpy as np
import pytest

from memman.config.settings import Settings
from memman.embed import registry
from memman.embed.base import EmbedCredentialError, EmbedError
from memman.embed.builtin import BuiltinEmbedder
from memman.embed.ollama import OllamaEmbedder
from memman.embed.openai_compat import OPENROUTER_HEADERS, OpenAICompatEmbedder
from memman.embed.voyage import VoyageEmbedder


def settings(tmp_path, **values):
    return Settings(tmp_path / "env", values=values)


def test_default_is_builtin(tmp_path):
    emb = registry.from_settings(settings(tmp_path))
    assert isinstance(emb, BuiltinEmbedder)
    assert emb.fingerprint == {"provider": "builtin", "model": "hash-ngram-v1", "dim": 384}


def test_voyage_from_settings(tmp_path):
    emb = registry.from_settings(settings(
        tmp_path, MEMMAN_EMBED_PROVIDER="voyage", MEMMAN_VOYAGE_API_KEY="pa-abc",
        MEMMAN_VOYAGE_EMBED_MODEL="voyage-code-3"))
    assert isinstance(emb, VoyageEmbedder)
    assert emb.fingerprint == {"provider": "voyage", "model": "voyage-code-3", "dim": 1024}
    assert emb.api_key == "pa-abc" and emb.url == "https://api.voyageai.com/v1/embeddings"
    default = registry.from_settings(settings(tmp_path, MEMMAN_EMBED_PROVIDER="voyage"))
    assert default.fingerprint == {"provider": "voyage", "model": "voyage-3-lite", "dim": 512}


def test_openai_from_settings(tmp_path):
    emb = registry.from_settings(settings(tmp_path, MEMMAN_EMBED_PROVIDER="openai"))
    assert isinstance(emb, OpenAICompatEmbedder)
    assert (emb.provider, emb.model, emb.dim) == ("openai", "text-embedding-3-small", None)
    assert emb.url == "https://api.openai.com/v1/embeddings"
    assert emb.credentials_available  # the key is optional (vLLM, TEI, llama.cpp ...)
    custom = registry.from_settings(settings(
        tmp_path, MEMMAN_EMBED_PROVIDER="openai", MEMMAN_OPENAI_EMBED_API_KEY="sk-x",
        MEMMAN_OPENAI_EMBED_ENDPOINT="http://gpu-box:8080/v1",
        MEMMAN_OPENAI_EMBED_MODEL="BAAI/bge-small-en-v1.5"))
    assert custom.url == "http://gpu-box:8080/v1/embeddings"
    assert custom.model == "BAAI/bge-small-en-v1.5" and custom.api_key == "sk-x"
    assert custom.key_name == "MEMMAN_OPENAI_EMBED_API_KEY"


def test_openrouter_from_settings(tmp_path):
    emb = registry.from_settings(settings(
        tmp_path, MEMMAN_EMBED_PROVIDER="openrouter", MEMMAN_OPENROUTER_API_KEY="sk-or-x"))
    assert isinstance(emb, OpenAICompatEmbedder)
    assert (emb.provider, emb.model) == ("openrouter", "baai/bge-m3")
    assert emb.url == "https://openrouter.ai/api/v1/embeddings"
    assert emb.extra_headers == OPENROUTER_HEADERS


def test_ollama_from_settings(tmp_path):
    emb = registry.from_settings(settings(
        tmp_path, MEMMAN_EMBED_PROVIDER="ollama", MEMMAN_OLLAMA_HOST="http://box:11434",
        MEMMAN_OLLAMA_MAX_INPUT_CHARS="800"))
    assert isinstance(emb, OllamaEmbedder)
    assert (emb.host, emb.model, emb.max_chars) == ("http://box:11434", "nomic-embed-text", 800)
    with pytest.raises(EmbedError, match="MEMMAN_OLLAMA_MAX_INPUT_CHARS"):
        registry.from_settings(settings(tmp_path, MEMMAN_EMBED_PROVIDER="ollama",
                                        MEMMAN_OLLAMA_MAX_INPUT_CHARS="lots"))


def test_unknown_provider(tmp_path):
    with pytest.raises(EmbedError, match="unknown embed provider 'cohere'"):
        registry.from_settings(settings(tmp_path, MEMMAN_EMBED_PROVIDER="cohere"))
    with pytest.raises(EmbedError, match="unknown embed provider 'cohere'"):
        registry.for_fingerprint({"provider": "cohere", "model": "x", "dim": 3},
                                 settings(tmp_path))


@pytest.mark.parametrize("provider, key", [
    ("voyage", "MEMMAN_VOYAGE_API_KEY"),
    ("openrouter", "MEMMAN_OPENROUTER_API_KEY"),
])
def test_missing_key_names_the_key(tmp_path, provider, key):
    emb = registry.from_settings(settings(tmp_path, MEMMAN_EMBED_PROVIDER=provider))
    assert emb.missing_key == key  # construction works: the store stays readable
    with pytest.raises(EmbedCredentialError) as info:
        emb.embed(["x"])
    assert info.value.key == key
    assert str(info.value) == f"{key} is not set; run 'memman config set {key} ...'"
    assert emb.embed([]).shape[0] == 0  # nothing to embed, nothing asked


def test_for_fingerprint_ignores_env_model(tmp_path):
    s = settings(tmp_path, MEMMAN_EMBED_PROVIDER="openrouter",
                 MEMMAN_VOYAGE_EMBED_MODEL="voyage-3-large", MEMMAN_VOYAGE_API_KEY="pa-k",
                 MEMMAN_OPENAI_EMBED_MODEL="text-embedding-3-large",
                 MEMMAN_OLLAMA_EMBED_MODEL="mxbai-embed-large")
    voy = registry.for_fingerprint({"provider": "voyage", "model": "voyage-3", "dim": 1024}, s)
    assert isinstance(voy, VoyageEmbedder)
    assert voy.fingerprint == {"provider": "voyage", "model": "voyage-3", "dim": 1024}
    assert voy.api_key == "pa-k"  # credentials still come from the settings
    oai = registry.for_fingerprint(
        {"provider": "openai", "model": "text-embedding-3-small", "dim": 1536}, s)
    assert (oai.model, oai.dim) == ("text-embedding-3-small", 1536)
    oll = registry.for_fingerprint({"provider": "ollama", "model": "all-minilm", "dim": 384}, s)
    assert (oll.model, oll.dim) == ("all-minilm", 384)
    # a fingerprint's dim wins over a known preset
    odd = registry.for_fingerprint({"provider": "voyage", "model": "voyage-3-lite", "dim": 256},
                                   s)
    assert odd.dim == 256


def test_for_fingerprint_builtin(tmp_path):
    s = settings(tmp_path, MEMMAN_EMBED_PROVIDER="voyage")
    emb = registry.for_fingerprint(
        {"provider": "builtin", "model": "hash-ngram-v1", "dim": 256}, s)
    assert isinstance(emb, BuiltinEmbedder) and emb.dim == 256
    assert emb.embed_one("x").shape == (256,)
    with pytest.raises(EmbedError, match="unknown builtin embed model 'hash-ngram-v0'"):
        registry.for_fingerprint({"provider": "builtin", "model": "hash-ngram-v0", "dim": 384}, s)


def test_fingerprint_without_dim_learns_it(tmp_path):
    emb = registry.for_fingerprint({"provider": "openai", "model": "m", "dim": None},
                                   settings(tmp_path))
    assert emb.dim is None


def test_embed_text():
    assert registry.embed_text("Use pytest", None) == "Use pytest"
    assert registry.embed_text("Use pytest", []) == "Use pytest"
    assert registry.embed_text("Use pytest", ["testing", "python"]) == \
        "Use pytest\nKeywords: testing, python"
    assert registry.embed_text("Use pytest", [" ", "", " ci "]) == "Use pytest\nKeywords: ci"


def test_keywords_line_adds_only_the_keywords(tmp_path):
    """'Keywords' itself is not a feature of the builtin: two unrelated memories do not
    become similar just because both have keywords."""
    emb = BuiltinEmbedder()
    a = emb.embed_one(registry.embed_text("The logo is dark blue", ["branding"]))
    b = emb.embed_one(registry.embed_text("PgBouncer pools Postgres connections", ["database"]))
    plain = emb.embed([registry.embed_text("The logo is dark blue", None),
                       registry.embed_text("PgBouncer pools Postgres connections", None)])
    assert abs(float(a @ b) - float(plain[0] @ plain[1])) < 0.1


def test_fingerprint_round_trip():
    fp = {"provider": "voyage", "model": "voyage-3-lite", "dim": 512}
    text = registry.dump_fingerprint(fp)
    assert text == '{"dim": 512, "model": "voyage-3-lite", "provider": "voyage"}'
    assert list(json.loads(text)) == ["dim", "model", "provider"]
    assert registry.parse_fingerprint(text) == fp
    assert registry.parse_fingerprint(registry.dump_fingerprint(
        BuiltinEmbedder().fingerprint)) == BuiltinEmbedder().fingerprint
    assert registry.parse_fingerprint(None) is None
    assert registry.parse_fingerprint("  ") is None
    assert registry.parse_fingerprint(text.encode()) == fp


@pytest.mark.parametrize("text", [
    "{not json", '["builtin"]', '{"provider": "builtin"}',
    '{"provider": "builtin", "model": "hash-ngram-v1", "dim": "384"}',
    '{"provider": "builtin", "model": "hash-ngram-v1", "dim": 0}',
])
def test_corrupt_fingerprint(text):
    with pytest.raises(EmbedError, match="corrupt embed_fingerprint"):
        registry.parse_fingerprint(text)


def test_is_remote():
    assert not registry.is_remote("builtin")
    assert all(registry.is_remote(p) for p in ("voyage", "openai", "openrouter", "ollama"))


def test_package_import_is_light():
    code = ("import sys, memman.embed, memman.embed.registry, memman.embed.base; "
            "print(sorted(m for m in ('numpy', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]"


def test_from_settings_reads_the_env_file(tmp_path):
    env = tmp_path / "env"
    env.write_text("MEMMAN_EMBED_PROVIDER=builtin\n")
    emb = registry.from_settings(Settings(env))
    assert isinstance(emb, BuiltinEmbedder)
    assert np.isclose(np.linalg.norm(emb.embed_one("hello")), 1.0)
