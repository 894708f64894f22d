"""Tests for memman.intake.redact (credential redaction before enqueueing).

Fake credentials are assembled at run time so that this file does not itself
look like it contains secrets to scanners.
"""

import random

import pytest

from memman.intake.redact import KINDS, redact


def mark(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def assert_redacted(text: str, secret: str, kind: str) -> str:
    out, kinds = redact(text)
    assert secret not in out, out
    assert mark(kind) in out, out
    assert kind in kinds
    assert kinds == sorted(set(kinds))
    return out


# --- fake credentials -------------------------------------------------------

ANTHROPIC = "sk-" + "ant-" + "api03-" + "Zx9_" * 12
OPENROUTER = "sk-" + "or-" + "v1-" + "0a1b2c3d4e5f" * 5
OPENAI = "sk-" + "a1B2" * 10
OPENAI_PROJ = "sk-" + "proj-" + "Q7wE_r9T-" * 6
OPENAI_SVC = "sk-" + "svcacct-" + "m3N4" * 8
VOYAGE = "pa-" + "Vy7_" * 10
GHP = "gh" + "p_" + "A1b2C3d4" * 5
GHO = "gh" + "o_" + "Z9y8X7w6" * 5
GITHUB_PAT = "github" + "_pat_" + "11ABCDEFG0" + "_aZ9" * 15
AWS = "AK" + "IA" + "IOSFODNN7EXAMPLE"
SLACK = "xo" + "xb-" + "123456789012-" + "AbCdEfGhIjKl"
SLACK_HOOK_PATH = "T0" + "0000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
JWT = (
    "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".ey" + "JzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
BEARER = "Zt" + "9kQ2xWv8LmN4pR7sT1uY"
PASSWORD = "hun" + "ter2-Prod!"
DB_PW = "to" + "or1234"
PEM_BODY = "MIIEpAIBAAKCAQEA" + "7bq9Xc2Lk" * 8
PEM = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\n"
    + PEM_BODY + "\n" + PEM_BODY[::-1] + "\n"
    + "-----END RSA " + "PRIVATE KEY-----"
)


# --- one test per kind ------------------------------------------------------


def test_kinds_constant_lists_every_kind():
    assert set(KINDS) == {
        "private",
        "private_key",
        "anthropic_key",
        "openrouter_key",
        "openai_key",
        "voyage_key",
        "github_token",
        "aws_access_key",
        "slack_token",
        "jwt",
        "url_password",
        "bearer_token",
        "password_assignment",
    }
    assert len(KINDS) == len(set(KINDS))


def test_private_block_multiline_case_insensitive_tags():
    text = "keep this\n<PRIVATE>my home address is\n42 Elm St</Private>\nand this"
    out, kinds = redact(text)
    assert out == "keep this\n[REDACTED:private]\nand this"
    assert kinds == ["private"]


def test_private_blocks_multiple_and_nested():
    text = "a <private>x</private> b <private>1<private>2</private>3</private> c"
    out, kinds = redact(text)
    assert out == "a [REDACTED:private] b [REDACTED:private] c"
    assert kinds == ["private"]


def test_unclosed_private_redacts_to_end():
    out, kinds = redact("visible <private>secret stuff\nmore")
    assert out == "visible [REDACTED:private]"
    assert kinds == ["private"]


def test_private_key_pem_block():
    text = "deploy key:\n" + PEM + "\nend of note"
    out = assert_redacted(text, PEM_BODY, "private_key")
    assert out == "deploy key:\n[REDACTED:private_key]\nend of note"
    assert "PRIVATE KEY" not in out


@pytest.mark.parametrize("label", ["", "EC ", "OPENSSH ", "DSA ", "ENCRYPTED "])
def test_private_key_variants(label):
    pem = PEM.replace("RSA ", label)
    assert_redacted("x\n" + pem + "\ny", PEM_BODY, "private_key")


def test_private_key_without_end_redacts_to_end():
    text = "key follows\n-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + PEM_BODY
    out = assert_redacted(text, PEM_BODY, "private_key")
    assert out == "key follows\n[REDACTED:private_key]"


def test_anthropic_key():
    out = assert_redacted(f"ANTHROPIC_API_KEY={ANTHROPIC} ok", ANTHROPIC, "anthropic_key")
    assert out == "ANTHROPIC_API_KEY=[REDACTED:anthropic_key] ok"
    assert redact(out)[1] == []


def test_openrouter_key():
    out = assert_redacted(f"router key {OPENROUTER}.", OPENROUTER, "openrouter_key")
    assert out == "router key [REDACTED:openrouter_key]."


@pytest.mark.parametrize("key", [OPENAI, OPENAI_PROJ, OPENAI_SVC])
def test_openai_key(key):
    out, kinds = redact(f"use {key} for the eval run")
    assert out == "use [REDACTED:openai_key] for the eval run"
    assert kinds == ["openai_key"]


def test_voyage_key():
    assert_redacted(f"VOYAGE_API_KEY: {VOYAGE}", VOYAGE, "voyage_key")


@pytest.mark.parametrize("token", [GHP, GHO, GITHUB_PAT])
def test_github_token(token):
    out, kinds = redact(f"git clone https://{token}@github.com/o/r.git")
    assert token not in out
    assert "[REDACTED:github_token]" in out
    assert "github_token" in kinds


def test_aws_access_key():
    out = assert_redacted(f"aws_access_key_id {AWS} in us-east-1", AWS, "aws_access_key")
    assert out == "aws_access_key_id [REDACTED:aws_access_key] in us-east-1"


def test_slack_token():
    assert_redacted(f"bot token {SLACK} posts to #ops", SLACK, "slack_token")


def test_slack_webhook_keeps_endpoint():
    url = "https://hooks.slack.com/services/" + SLACK_HOOK_PATH
    out = assert_redacted(f"alerts go to {url} daily", SLACK_HOOK_PATH, "slack_token")
    assert out == "alerts go to https://hooks.slack.com/services/[REDACTED:slack_token] daily"


def test_jwt():
    out = assert_redacted(f"session cookie was {JWT} yesterday", JWT, "jwt")
    assert out == "session cookie was [REDACTED:jwt] yesterday"


def test_url_password_keeps_user_and_host():
    out, kinds = redact("https://bob:pw@host/x")
    assert out == "https://bob:[REDACTED:url_password]@host/x"
    assert kinds == ["url_password"]


def test_url_password_database_dsn():
    pw = "S3cr" + "et@word"
    out = assert_redacted(
        f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/main", pw, "url_password"
    )
    assert out == "DATABASE_URL=postgres://app:[REDACTED:url_password]@db.internal:5432/main"


def test_password_assignment_simple():
    out, kinds = redact("password=" + "hunter2")
    assert out == "password=[REDACTED:password_assignment]"
    assert kinds == ["password_assignment"]


@pytest.mark.parametrize(
    "template, expected",
    [
        ("DB_PASSWORD={v}", "DB_PASSWORD=[R]"),
        ("export GITHUB_TOKEN='{v}'", "export GITHUB_TOKEN='[R]'"),
        ('{{"client_secret": "{v}", "id": 7}}', '{{"client_secret": "[R]", "id": 7}}'),
        ("passwd: {v}", "passwd: [R]"),
        ("pwd = {v}", "pwd = [R]"),
        ("Api-Key: {v}", "Api-Key: [R]"),
        ("apikey={v}&page=2", "apikey=[R]&page=2"),
        ("accessToken: {v}, next", "accessToken: [R], next"),
        ("auth_token={v};", "auth_token=[R];"),
        ("SECRET_KEY = '{v}'", "SECRET_KEY = '[R]'"),
        ("AWS_SECRET_ACCESS_KEY={v}", "AWS_SECRET_ACCESS_KEY=[R]"),
        ('config["password"] = "{v}"', 'config["password"] = "[R]"'),
    ],
)
def test_password_assignment_variants(template, expected):
    out, kinds = redact(template.format(v=PASSWORD))
    assert out == expected.format().replace("[R]", mark("password_assignment"))
    assert kinds == ["password_assignment"]


def test_password_assignment_quoted_value_with_spaces():
    out, kinds = redact('admin_password: "correct horse battery staple"')
    assert out == 'admin_password: "[REDACTED:password_assignment]"'
    assert kinds == ["password_assignment"]


def test_password_assignment_in_escaped_json():
    text = '{\\"password\\": \\"' + PASSWORD + '\\", \\"user\\": \\"bob\\"}'
    out = assert_redacted(text, PASSWORD, "password_assignment")
    assert '\\"user\\": \\"bob\\"' in out


def test_bearer_authorization_header():
    token = "abc" + "123xyz"
    out, kinds = redact(f"curl -H 'Authorization: Bearer {token}' https://api.example.com")
    assert out == (
        "curl -H 'Authorization: Bearer [REDACTED:bearer_token]' https://api.example.com"
    )
    assert kinds == ["bearer_token"]


def test_bearer_standalone():
    out = assert_redacted(f"sent Bearer {BEARER} to the API", BEARER, "bearer_token")
    assert out == "sent Bearer [REDACTED:bearer_token] to the API"


# --- ordering / specific-before-generic -------------------------------------


def test_specific_key_wins_over_assignment():
    out, kinds = redact(f"api_key={OPENAI}")
    assert out == "api_key=[REDACTED:openai_key]"
    assert kinds == ["openai_key"]


def test_specific_key_in_quoted_assignment_and_url():
    out, kinds = redact(f'token: "{GHP}" and https://x:{ANTHROPIC}@h/p')
    assert out == 'token: "[REDACTED:github_token]" and https://x:[REDACTED:anthropic_key]@h/p'
    assert kinds == ["anthropic_key", "github_token"]


def test_bearer_header_with_specific_key():
    out, kinds = redact(f"Authorization: Bearer {OPENAI}")
    assert out == "Authorization: Bearer [REDACTED:openai_key]"
    assert kinds == ["openai_key"]


def test_key_inside_private_block_reported_as_private_only():
    out, kinds = redact(f"<private>{OPENAI}</private>")
    assert out == "[REDACTED:private]"
    assert kinds == ["private"]


def test_multiple_secrets_all_redacted_kinds_sorted_unique():
    text = (
        f"OPENAI_API_KEY={OPENAI}\n"
        f"second key {OPENAI_PROJ}\n"
        f"gh: {GHP}\n"
        f"aws {AWS}\n"
        f"db password={PASSWORD}\n"
        f"dsn mysql://root:{DB_PW}@localhost/db\n"
        "<private>personal</private>\n"
        f"{PEM}\n"
        "done"
    )
    out, kinds = redact(text)
    for secret in (OPENAI, OPENAI_PROJ, GHP, AWS, PASSWORD, DB_PW, "personal", PEM_BODY):
        assert secret not in out
    assert kinds == sorted(
        [
            "aws_access_key",
            "github_token",
            "openai_key",
            "password_assignment",
            "private",
            "private_key",
            "url_password",
        ]
    )
    assert out.count("[REDACTED:openai_key]") == 2
    assert out.endswith("[REDACTED:private_key]\ndone")


# --- lookalikes that must stay untouched ------------------------------------

LOOKALIKES = [
    "the task-manager skeleton",
    "use sk-learn style",
    "fixed in 3f9a2c1d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b",
    "request id 550e8400-e29b-41d4-a716-446655440000",
    "password reset flow uses a token bucket",
    "set password= in the form",
    "token: <your token here>",
    "AKIA is the AWS prefix",
    "pa-ckage",
    "https://example.com/path",
    "https://example.com:8443/path?q=1",
    "user@example.com",
    "eyJ is how JWTs start",
    "token=${GITHUB_TOKEN}",
    "token=$GITHUB_TOKEN",
    "Passwords must be rotated every 90 days; never share your password with anyone.",
    "sk-",
    "password = get_password()",
    'password = os.getenv("DB_PASSWORD")',
    "api_key: Optional[str] = None",
    "password: str",
    "max_tokens: 4096",
    "num_tokens=12800",
    "tokenizer=cl100k_base",
    "password=***",
    "secret: xxx",
    "password: null",
    "verify_ssl: true, token: none",
    "password=[REDACTED]",
    "api_key=<API_KEY>",
    "PASSWORD=%DB_PASS%",
    "password: {{ .Values.db.password }}",
    "postgres://app:${DB_PASSWORD}@db/main",
    "curl -H 'Authorization: Bearer $TOKEN'",
    "Bearer authentication-is-recommended-here",
    "the bearer of bad news",
    "desk-reservation-system-for-the-office-floor",
    "",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_untouched(text):
    assert redact(text) == (text, [])


def test_function_call_value_is_treated_as_code():
    # Deliberate decision: a value containing "(" is code, not a secret.
    assert redact("password = get_password()") == ("password = get_password()", [])
    assert redact("token=read_token(path)") == ("token=read_token(path)", [])


# --- idempotence --------------------------------------------------------------

IDEMPOTENCE_INPUTS = [
    f"api_key={OPENAI} password={PASSWORD}",
    "https://bob:pw@host/x",
    f"Authorization: Bearer {BEARER}",
    f"<private>a</private> {PEM} {JWT}",
    f'{{"token": "{GHO}", "secret": "{PASSWORD}"}}',
    "https://hooks.slack.com/services/" + SLACK_HOOK_PATH,
    f"{AWS} {SLACK} {VOYAGE} {OPENROUTER} {ANTHROPIC} {GITHUB_PAT}",
    "password: password: password: abcdef",
    "postgres://u:p@ss@h/db",
]


@pytest.mark.parametrize("text", IDEMPOTENCE_INPUTS)
def test_idempotent(text):
    once, kinds = redact(text)
    assert kinds
    assert redact(once) == (once, [])


def test_markers_are_never_re_redacted():
    for kind in KINDS:
        for text in (
            mark(kind),
            f"password={mark(kind)}",
            f'token: "{mark(kind)}"',
            f"https://u:{mark(kind)}@h/x",
            f"https://{mark(kind)}@h/x",
            f"https://{mark(kind)}:{mark(kind)}@h/x",
            f"Authorization: Bearer {mark(kind)}",
        ):
            assert redact(text) == (text, [])


def test_idempotent_on_random_mixtures():
    rng = random.Random(1234)
    pieces = [
        ANTHROPIC, OPENAI, OPENROUTER, VOYAGE, GHP, GITHUB_PAT, AWS, SLACK, JWT,
        PEM, BEARER, PASSWORD, "https://", "u:", "@", "h/", "password=", "token: ",
        "Authorization: Bearer ", "<private>", "</private>", '"', "'", "\\\"",
        " ", "\n", ":", "=", "[", "]", "&", "İ", "hooks.slack.com/services/",
    ]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        once, kinds = redact(text)
        assert ("[REDACTED:" in once) == bool(kinds), text
        assert redact(once) == (once, []), text


# --- robustness -------------------------------------------------------------


def test_unicode_text_keeps_positions():
    # U+0130 lower-cases to two characters; redaction must still line up.
    text = "İİ Istanbul office PASSWORD=" + PASSWORD + " İ done"
    out, kinds = redact(text)
    assert out == "İİ Istanbul office PASSWORD=[REDACTED:password_assignment] İ done"
    assert kinds == ["password_assignment"]


@pytest.mark.parametrize(
    "text",
    [
        "password=" + "a" * 8000,
        "sk-" * 3000,
        "<private>" * 1000,
        "</private>" * 1000,
        'password="' * 1000,
        "password: " * 800,
        "://" * 3000,
        "a://b:" * 1500,
        "://a:" + "@" * 8000,
        "eyJ" * 3000,
        "eyJa." * 2000,
        "Bearer " * 1000,
        "Authorization: " * 500,
        "-----BEGIN PRIVATE KEY-----" * 300,
        "a" * 8000,
        "a_" * 4000,
        "a." * 4000,
        "x@" * 4000,
        "AKIA" * 2000,
        "gh" * 4000,
        "token" * 1600,
        "İ" * 8000,
    ],
)
def test_pathological_inputs_complete(text):
    out, kinds = redact(text)
    assert isinstance(out, str)
    assert redact(out) == (out, [])
