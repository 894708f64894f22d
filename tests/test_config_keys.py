"""Tests for memman.config.keys: validation, per-store families, hints, masking, secrecy."""
import pytest

from memman.config import keys
from memman.config.keys import FAMILIES, KEYS, PROCESS_ONLY, is_secret, lookup, mask, validate
from memman.errors import MemmanError


def _rejects(name, value):
    with pytest.raises(MemmanError) as info:
        validate(name, value)
    message = str(info.value)
    assert "\n" not in message
    assert name in message
    return message


# -- choice ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["builtin", "voyage", "openai", "openrouter", "ollama"])
def test_choice_accepts_listed_values(value):
    assert validate("MEMMAN_EMBED_PROVIDER", value) == value


@pytest.mark.parametrize("value", ["bogus", "BUILTIN", "", " builtin"])
def test_choice_rejects_other_values_and_lists_valid_ones(value):
    message = _rejects("MEMMAN_EMBED_PROVIDER", value)
    assert "builtin" in message and "ollama" in message


def test_choice_log_level_and_backend():
    assert validate("MEMMAN_LOG_LEVEL", "DEBUG") == "DEBUG"
    _rejects("MEMMAN_LOG_LEVEL", "TRACE")
    assert validate("MEMMAN_DEFAULT_BACKEND", "postgres") == "postgres"
    _rejects("MEMMAN_DEFAULT_BACKEND", "mysql")


# -- URL -----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("http://localhost:11434", "http://localhost:11434"),
    ("https://api.example.com/v1", "https://api.example.com/v1"),
    ("https://api.example.com/v1/", "https://api.example.com/v1"),
])
def test_url_accepts_http_and_https(value, expected):
    assert validate("MEMMAN_OLLAMA_HOST", value) == expected


@pytest.mark.parametrize("value", ["ftp://host", "localhost:11434", "http://", "https:///path",
                                   "not a url", "none"])
def test_url_rejects_non_http_urls(value):
    message = _rejects("MEMMAN_OLLAMA_HOST", value)
    assert "URL" in message


# -- LLM endpoint: a URL or 'none' -----------------------------------------------

@pytest.mark.parametrize("value", ["none", "NONE", "None"])
def test_llm_endpoint_accepts_none_and_normalises_it(value):
    assert validate("MEMMAN_LLM_ENDPOINT", value) == "none"


def test_llm_endpoint_accepts_url_and_rejects_junk():
    assert validate("MEMMAN_LLM_ENDPOINT", "https://openrouter.ai/api/v1/") == \
        "https://openrouter.ai/api/v1"
    _rejects("MEMMAN_LLM_ENDPOINT", "nothing")
    _rejects("MEMMAN_LLM_ENDPOINT", "file:///etc/passwd")


# -- bool --------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("true", "true"), ("TRUE", "true"), ("1", "1"), ("0", "0"), ("Yes", "yes"),
    ("no", "no"), ("on", "on"), ("OFF", "off"), ("false", "false"),
])
def test_bool_accepts_and_lowercases(value, expected):
    assert validate("MEMMAN_RERANK_ENABLED", value) == expected


@pytest.mark.parametrize("value", ["2", "y", "enabled", "", "truee"])
def test_bool_rejects_other_values(value):
    _rejects("MEMMAN_RERANK_ENABLED", value)


# -- int ranges ----------------------------------------------------------------------

def test_int_range_lower_bound_zero():
    assert validate("MEMMAN_INTERVAL", "0") == "0"
    assert validate("MEMMAN_INTERVAL", "3600") == "3600"
    assert validate("MEMMAN_INTERVAL", "007") == "7"
    assert ">= 0" in _rejects("MEMMAN_INTERVAL", "-1")


def test_int_range_lower_bound_one():
    assert validate("MEMMAN_MAX_INSIGHTS", "1") == "1"
    assert ">= 1" in _rejects("MEMMAN_MAX_INSIGHTS", "0")
    assert validate("MEMMAN_OLLAMA_MAX_INPUT_CHARS", "1") == "1"
    _rejects("MEMMAN_OLLAMA_MAX_INPUT_CHARS", "0")


@pytest.mark.parametrize("value", ["1.5", "ten", "", "1e3", "0x10"])
def test_int_range_rejects_non_integers(value):
    assert "whole number" in _rejects("MEMMAN_INTERVAL", value)


def test_int_range_with_upper_bound():
    check = keys._int_range(1, 5)
    assert check("1") == "1" and check("5") == "5"
    with pytest.raises(ValueError, match=r"1\.\.5"):
        check("6")
    with pytest.raises(ValueError):
        check("0")


def test_positive_float():
    assert validate("MEMMAN_RECALL_EMBED_TIMEOUT", "0.5") == "0.5"
    _rejects("MEMMAN_RECALL_EMBED_TIMEOUT", "0")
    _rejects("MEMMAN_RECALL_EMBED_TIMEOUT", "-1")
    _rejects("MEMMAN_RECALL_EMBED_TIMEOUT", "soon")
    _rejects("MEMMAN_RECALL_EMBED_TIMEOUT", "nan")


def test_text_rejects_blank():
    assert validate("MEMMAN_LLM_MODEL_FAST", "some/model") == "some/model"
    _rejects("MEMMAN_LLM_MODEL_FAST", "")
    _rejects("MEMMAN_LLM_MODEL_FAST", "   ")


# -- threshold -------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("0.5", "0.5"), ("0.001", "0.001"), ("0.999", "0.999"),
    ("skip", "skip"), ("SKIP", "skip"), ("none", "none"), ("None", "none"),
])
def test_threshold_accepts(value, expected):
    assert validate("MEMMAN_AUTO_SEMANTIC_THRESHOLD_default", value) == expected


@pytest.mark.parametrize("value", ["0", "1", "0.0", "1.0", "-0.1", "1.5", "nan", "inf",
                                   "half", ""])
def test_threshold_rejects_bounds_and_junk(value):
    _rejects("MEMMAN_AUTO_SEMANTIC_THRESHOLD_default", value)


# -- DSN --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "postgresql://bob:pw@db:5432/mem",
    "postgres://bob@db/mem",
    "host=db user=bob dbname=mem",
])
def test_dsn_accepts_urls_and_keyword_strings(value):
    assert validate("MEMMAN_DEFAULT_POSTGRES_DSN", value) == value
    assert validate("MEMMAN_POSTGRES_DSN_work", value) == value


@pytest.mark.parametrize("value", ["mysql://db/mem", "db.example.com", "postgresql:/x"])
def test_dsn_rejects_other_strings(value):
    _rejects("MEMMAN_DEFAULT_POSTGRES_DSN", value)


# -- per-store families ----------------------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("MEMMAN_BACKEND_my-store", "postgres"),
    ("MEMMAN_BACKEND_default", "sqlite"),
    ("MEMMAN_SURFACE_2025", "claw"),
    ("MEMMAN_SURFACE_a", "code"),
    ("MEMMAN_RERANK_ENABLED_work", "true"),
    ("MEMMAN_POSTGRES_DSN_work_2", "postgresql://u@h/db"),
    ("MEMMAN_AUTO_SEMANTIC_THRESHOLD_My_Store", "0.8"),
    ("MEMMAN_BACKEND_" + "s" * 64, "sqlite"),
])
def test_family_keys_accept_store_suffix(name, value):
    assert validate(name, value) == value


def test_family_keys_use_family_validator():
    _rejects("MEMMAN_BACKEND_my-store", "mysql")
    _rejects("MEMMAN_SURFACE_2025", "desktop")
    _rejects("MEMMAN_RERANK_ENABLED_work", "maybe")


def test_split_family_returns_family_and_store():
    key, store = keys.split_family("MEMMAN_BACKEND_my-store")
    assert key is FAMILIES["MEMMAN_BACKEND"] and store == "my-store"
    key, store = keys.split_family("MEMMAN_POSTGRES_DSN_2025")
    assert key is FAMILIES["MEMMAN_POSTGRES_DSN"] and store == "2025"
    assert keys.split_family("MEMMAN_RERANK_ENABLED") is None  # the global key
    assert keys.split_family("MEMMAN_EMBED_PROVIDER") is None


@pytest.mark.parametrize("name", [
    "MEMMAN_BACKEND_",
    "MEMMAN_BACKEND_-x",
    "MEMMAN_BACKEND__x",
    "MEMMAN_BACKEND_a b",
    "MEMMAN_BACKEND_a/b",
    "MEMMAN_BACKEND_é",
    "MEMMAN_SURFACE_" + "s" * 65,
])
def test_family_keys_reject_invalid_store_suffix(name):
    with pytest.raises(MemmanError):
        validate(name, "sqlite")
    assert keys.split_family(name) is None


def test_global_rerank_enabled_is_not_a_family_key():
    assert lookup("MEMMAN_RERANK_ENABLED") is KEYS["MEMMAN_RERANK_ENABLED"]


@pytest.mark.parametrize("name, hint", [
    ("MEMMAN_BACKEND", "MEMMAN_DEFAULT_BACKEND"),
    ("MEMMAN_POSTGRES_DSN", "MEMMAN_DEFAULT_POSTGRES_DSN"),
    ("MEMMAN_SURFACE", "MEMMAN_SURFACE_<store>"),
    ("MEMMAN_AUTO_SEMANTIC_THRESHOLD", "MEMMAN_AUTO_SEMANTIC_THRESHOLD_<store>"),
])
def test_bare_family_key_rejected_with_did_you_mean(name, hint):
    with pytest.raises(MemmanError) as info:
        validate(name, "postgresql://u@h/db" if "DSN" in name else "sqlite")
    message = str(info.value)
    assert "did you mean" in message
    assert hint in message
    assert "\n" not in message


def test_bare_backend_hint_mentions_per_store_form():
    with pytest.raises(MemmanError, match=r"MEMMAN_BACKEND_<store>"):
        lookup("MEMMAN_BACKEND")
    with pytest.raises(MemmanError, match=r"MEMMAN_POSTGRES_DSN_<store>"):
        lookup("MEMMAN_POSTGRES_DSN")


@pytest.mark.parametrize("name", PROCESS_ONLY)
def test_process_only_keys_rejected(name):
    with pytest.raises(MemmanError, match="process environment") as info:
        validate(name, "x")
    assert name in str(info.value)


def test_process_only_list_covers_expected_keys():
    for name in ("MEMMAN_DATA_DIR", "MEMMAN_STORE", "MEMMAN_WORKER", "MEMMAN_DEBUG"):
        assert name in PROCESS_ONLY
        assert name not in KEYS


@pytest.mark.parametrize("typo, suggestion", [
    ("MEMMAN_EMBED_PROVIDR", "MEMMAN_EMBED_PROVIDER"),
    ("MEMMAN_LLM_APIKEY", "MEMMAN_LLM_API_KEY"),
    ("memman_log_level", "MEMMAN_LOG_LEVEL"),
    ("MEMMAN_INTERVALS", "MEMMAN_INTERVAL"),
])
def test_unknown_key_with_close_match_suggests_it(typo, suggestion):
    with pytest.raises(MemmanError) as info:
        validate(typo, "x")
    message = str(info.value)
    assert "unknown config key" in message
    assert f"did you mean {suggestion}?" in message


def test_unknown_key_without_close_match_points_at_config_show():
    with pytest.raises(MemmanError) as info:
        lookup("TOTALLY_UNRELATED_THING")
    message = str(info.value)
    assert "unknown config key" in message
    assert "did you mean" not in message
    assert "memman config show" in message


def test_every_default_passes_its_own_validator():
    for name, key in KEYS.items():
        if key.default is not None:
            assert validate(name, key.default) == key.default, name


# -- is_secret ----------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "MEMMAN_LLM_API_KEY", "MEMMAN_OPENROUTER_API_KEY", "MEMMAN_VOYAGE_API_KEY",
    "MEMMAN_OPENAI_EMBED_API_KEY", "MEMMAN_DEFAULT_POSTGRES_DSN", "MEMMAN_POSTGRES_DSN_work",
    "SOMETHING_TOKEN", "MY_PASSWORD", "X_SECRET", "OTHER_API_KEY", "OTHER_DSN",
])
def test_is_secret_true(name):
    assert is_secret(name)


@pytest.mark.parametrize("name", [
    "MEMMAN_LLM_ENDPOINT", "MEMMAN_EMBED_PROVIDER", "MEMMAN_LLM_MODEL_FAST",
    "MEMMAN_BACKEND_work", "MEMMAN_SURFACE_2025", "MEMMAN_INTERVAL", "UNRELATED",
])
def test_is_secret_false(name):
    assert not is_secret(name)


def test_keys_marked_secret_are_exactly_the_credentials():
    secret = {n for n, k in KEYS.items() if k.secret}
    assert secret == {"MEMMAN_LLM_API_KEY", "MEMMAN_OPENROUTER_API_KEY", "MEMMAN_VOYAGE_API_KEY",
                      "MEMMAN_OPENAI_EMBED_API_KEY", "MEMMAN_DEFAULT_POSTGRES_DSN",
                      "MEMMAN_RERANK_API_KEY"}


# -- mask ------------------------------------------------------------------------------

def test_mask_api_key_shows_only_last_four():
    value = "sk-or-v1-0123456789abcdefWXYZ"
    masked = mask("MEMMAN_LLM_API_KEY", value)
    assert masked.endswith("WXYZ")
    assert value not in masked
    assert "0123456789" not in masked
    visible = masked.replace("*", "")
    assert visible == "WXYZ"


@pytest.mark.parametrize("value", ["a", "abcd", "abcdefgh"])
def test_mask_short_secret_fully_masked(value):
    masked = mask("MEMMAN_VOYAGE_API_KEY", value)
    assert set(masked) == {"*"}


def test_mask_non_secret_and_none_pass_through():
    assert mask("MEMMAN_EMBED_PROVIDER", "voyage") == "voyage"
    assert mask("MEMMAN_LLM_API_KEY", None) is None
    assert mask("MEMMAN_LLM_ENDPOINT", "https://x.example/v1") == "https://x.example/v1"


@pytest.mark.parametrize("name", ["MEMMAN_DEFAULT_POSTGRES_DSN", "MEMMAN_POSTGRES_DSN_work"])
def test_mask_dsn_url_password(name):
    dsn = "postgresql://bob:s3cr3t-pw@db.example.com:5432/memman"
    masked = mask(name, dsn)
    assert "s3cr3t-pw" not in masked
    assert "bob" in masked and "db.example.com" in masked and "5432/memman" in masked
    assert masked.startswith("postgresql://")


def test_mask_dsn_url_password_with_at_sign():
    masked = mask("MEMMAN_DEFAULT_POSTGRES_DSN", "postgresql://bob:p@ss@db/mem")
    assert "p@ss" not in masked and "bob" in masked and "db/mem" in masked


def test_mask_dsn_url_without_password_unchanged():
    dsn = "postgresql://bob@db.example.com/memman"
    assert mask("MEMMAN_DEFAULT_POSTGRES_DSN", dsn) == dsn


def test_mask_dsn_keyword_password():
    dsn = "host=db.example.com user=bob password=s3cr3t dbname=memman"
    masked = mask("MEMMAN_POSTGRES_DSN_work", dsn)
    assert "s3cr3t" not in masked
    assert "user=bob" in masked and "host=db.example.com" in masked
    assert "dbname=memman" in masked


def test_mask_dsn_keyword_password_with_spaces_around_equals():
    masked = mask("MEMMAN_DEFAULT_POSTGRES_DSN", "host=db password = s3cr3t user=bob")
    assert "s3cr3t" not in masked and "user=bob" in masked


def test_mask_dsn_quoted_keyword_password_with_space():
    masked = mask("MEMMAN_DEFAULT_POSTGRES_DSN", "host=db password='correct horse' user=bob")
    assert "correct" not in masked
    assert "horse" not in masked
    assert "user=bob" in masked and "host=db" in masked
