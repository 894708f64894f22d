"""The built-in lexical hashing embedder: determinism, shape, quality, speed."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from memman.embed.base import Embedder
from memman.embed.builtin import BuiltinEmbedder, stem, tokens
from memman.embed.vectors import cosine_matrix, from_blob, normalise, stack_blobs, to_blob

SAMPLES = [
    "We deploy to production with ArgoCD every Friday afternoon",
    "Caching layer uses Redis with a 5 minute TTL for session data",
    "Ünïcödé text, emoji 🚀 and snake_case_identifiers plus CamelCaseNames",
    "",
    "the of and",
]


@pytest.fixture(scope="module")
def emb():
    return BuiltinEmbedder()


def cos(emb, a, b):
    return float(emb.embed_one(a) @ emb.embed_one(b))


def test_identity_and_fingerprint(emb):
    assert isinstance(emb, Embedder)
    assert (emb.provider, emb.model, emb.dim) == ("builtin", "hash-ngram-v1", 384)
    assert emb.fingerprint == {"provider": "builtin", "model": "hash-ngram-v1", "dim": 384}
    assert emb.credentials_available
    assert BuiltinEmbedder(dim=128).fingerprint["dim"] == 128


@pytest.mark.parametrize("dim", [64, 384, 1024])
def test_shape_dtype_and_unit_rows(dim):
    out = BuiltinEmbedder(dim=dim).embed(SAMPLES)
    assert out.shape == (len(SAMPLES), dim)
    assert out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_empty_input_and_embed_one(emb):
    assert emb.embed([]).shape == (0, 384)
    one = emb.embed_one("hello world")
    assert one.shape == (384,) and one.dtype == np.float32
    assert np.array_equal(one, emb.embed(["hello world"])[0])
    with pytest.raises(TypeError):
        emb.embed("not a list")


def test_same_text_same_vector_regardless_of_batch(emb):
    alone = emb.embed_one(SAMPLES[1])
    batched = emb.embed(SAMPLES)[1]
    assert np.array_equal(alone, batched)


_CHILD = """
import sys
from memman.embed.builtin import BuiltinEmbedder
texts = sys.stdin.read().split("\\x1e")
sys.stdout.buffer.write(BuiltinEmbedder(dim=256).embed(texts).tobytes())
"""


def test_deterministic_across_processes_and_hash_seeds():
    here = BuiltinEmbedder(dim=256).embed(SAMPLES).tobytes()
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", _CHILD], input="\x1e".join(SAMPLES).encode(),
                              capture_output=True, env=env, timeout=60, check=True)
        assert proc.stdout == here


def test_known_vector_is_stable():
    """Pins hash-ngram-v1: if this fails, the features changed and stored vectors of
    every builtin store no longer match. Ship a new model name instead."""
    vec = BuiltinEmbedder(dim=16).embed_one("deploy the service")
    assert to_blob(vec).hex()[:32] == PINNED_PREFIX


PINNED_PREFIX = "1dfc143f00000000a5b04dbefecbe93d"  # first 4 floats, little-endian


def test_stemmer_conflates_inflections():
    assert {stem(w) for w in ["deploy", "deploys", "deployed", "deploying"]} == {"deploy"}
    assert stem("running") == stem("runs") == "run"
    assert stem("caching") == stem("cached") == stem("cache")
    assert stem("policies") == stem("policy")
    assert stem("string") == "string"  # no vowel left: untouched
    assert stem("need") == stem("needed") == "need"


def test_stemming_raises_similarity(emb):
    inflected = cos(emb, "deploying services nightly", "deployed service nightly")
    unrelated_word = cos(emb, "deploying services nightly", "archived service nightly")
    assert inflected > 0.8
    assert inflected > unrelated_word + 0.15


def test_stopwords_do_not_make_texts_similar(emb):
    assert tokens("The build is in the repo") == ["build", "repo"]
    assert cos(emb, "the build is in the repo", "the cat is on the mat") < 0.2


def test_similarity_ordering_on_realistic_pairs(emb):
    anchor = "We deploy to production with ArgoCD every Friday afternoon"
    paraphrase = "Production deployments run through ArgoCD on Fridays"
    near_dup = "We deploy to staging with ArgoCD every Friday afternoon"
    unrelated = "The mobile app crashes on Android 12 when camera permission is denied"
    c_near, c_para, c_unrel = (cos(emb, anchor, t) for t in (near_dup, paraphrase, unrelated))
    assert c_near > 0.8
    assert c_near > c_para > c_unrel
    assert c_para > 0.4
    assert abs(c_unrel) < 0.2


def test_near_duplicates_and_unrelated_texts(emb):
    pairs = [
        ("The worker drains the queue every 60 seconds and marks rows done",
         "The worker drains the queue every 30 seconds and marks rows done"),
        ("Use ruff for linting and black for formatting the Python code",
         "Use ruff for linting and isort for formatting the Python code"),
    ]
    for a, b in pairs:
        assert cos(emb, a, b) > 0.8
    corpus = [
        "Postgres connection pooling is handled by PgBouncer in transaction mode",
        "The frontend is built with React and bundled by Vite",
        "Never commit secrets; use the vault CLI to fetch credentials",
        "The logo colour is dark blue and the font is Inter",
        "Meeting notes are stored in the team wiki under Engineering",
        "Migrations are written with Alembic and applied on startup",
    ]
    m = emb.embed(corpus)
    sims = (m @ m.T)[np.triu_indices(len(corpus), 1)]
    assert sims.max() < 0.25
    assert abs(sims.mean()) < 0.1


def test_identifiers_share_subword_features(emb):
    related = cos(emb, "call get_user_profile before rendering",
                  "getUserProfile fetches the profile")
    assert related > cos(emb, "call get_user_profile before rendering", "the logo is blue")


def test_speed_sanity(emb):
    """1,000 short texts: no timing assert (shared CI), just a loose sanity bound."""
    words = ("deploy service queue worker cache redis postgres index vector recall "
             "memory store config token batch retry timeout schema migrate build").split()
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 20)) + f" item{i}" for i in range(1000)]
    start = time.perf_counter()
    out = emb.embed(texts)
    elapsed = time.perf_counter() - start
    assert out.shape == (1000, 384)
    assert elapsed < 30  # ~0.1 s on one core; only catches pathological regressions


def test_blob_round_trip_and_legacy_float64():
    vec = BuiltinEmbedder(dim=32).embed_one("blob me")
    blob = to_blob(vec)
    assert len(blob) == 4 * 32
    assert np.array_equal(from_blob(blob), vec)
    assert np.array_equal(from_blob(blob, dim=32), vec)
    legacy = vec.astype("<f8").tobytes()
    back = from_blob(legacy, dim=32)
    assert back.dtype == np.float32 and np.allclose(back, vec)
    matrix, mask = stack_blobs([blob, None, legacy, b"\x00" * 12], dim=32)
    assert mask.tolist() == [True, False, True, False]
    assert np.allclose(matrix[2], vec) and not matrix[1].any()


def test_normalise_and_cosine_matrix():
    m = normalise(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]]))
    assert m.dtype == np.float32
    assert np.allclose(m[0], [0.6, 0.8]) and not m[1].any()
    sims = cosine_matrix(m[2], m)
    assert np.allclose(sims, [0.6, 0.0, 1.0])
    assert cosine_matrix(m[0], np.zeros((0, 2), dtype=np.float32)).shape == (0,)
