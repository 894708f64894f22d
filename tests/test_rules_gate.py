"""Tests for memman.rules.gate: the zero-config durability gate."""
import pytest

from memman.rules.gate import MAX_GATED_WORDS, gate

# Not memories: greetings, thanks, acknowledgements, receipts, status chatter.
REJECTED = [
    "hi",
    "Hello!",
    "hey there",
    "Good morning team",
    "thanks!",
    "Thank you so much",
    "thx",
    "ok sounds good",
    "great, done",
    "ok",
    "Sure, will do",
    "Got it, thanks",
    "lgtm",
    "Perfect, thank you!",
    "tests pass",
    "All tests pass \u2705",
    "deployed",
    "Deployed to prod",
    "done",
    "Done.",
    "working on it",
    "I just ran the build",
    "build succeeded \u2705",
    "PR merged",
    "Merged PR #123",
    "merged into main",
    "CI is green",
    "CI green",
    "Looking into it now",
    "Let me check",
    "checking...",
    "still running",
    "it works now",
    "Thanks, that fixed it!",
    "Pushed the fix",
    "I've restarted the server",
    "Tests passed on CI",
    "The build is green again",
    "All done for today",
    "wip",
    "on it",
    "Fixed it.",
    "Deploying now",
    "Running the tests again",
    "We just shipped it",
    "Build passed. Deployed to staging.",
    "Status: done",
    "ok, merged and deployed",
    "Will check later",
    "Rebased on main and pushed",
]

# Durable memories: none of these may be rejected (a false reject loses knowledge).
KEPT = [
    "Deploys need VAULT_ADDR set",
    "Run tests with make test before pushing",
    "The deploy failed because the disk was full; fix by pruning images",
    "Alice owns the billing service",
    "We chose PostgreSQL over MySQL because of JSONB support",
    "The user prefers tabs over spaces in Go code",
    "Make sure tests pass before merging",
    "Always run migrations before starting the server on port 8080",
    "Deployed v1.2.3 to prod; rollback with ./scripts/rollback.sh",
    "Never deploy on Fridays",
    "The staging DB is at db.internal:5432",
    "Use `pytest -x` to stop at the first failure",
    "CI runs on GitHub Actions and caches ~/.cache/pip",
    "Tests pass locally but fail on CI because of the timezone",
    "Done means merged and deployed to production",
    "PR merged: switched auth to OAuth2 tokens stored in Vault",
    "Fixed: the login bug was caused by a stale cache",
    "Build fails on Python 3.12 due to the removed distutils module",
    "Main is auto-deployed to staging on every merge",
    "Images are pushed to ECR by CI",
    "Bob prefers squash merges",
    "The API rate limit is 100 requests per minute",
    "Ok, use Redis for the session cache",
    "Thanks to the retry wrapper, flaky network calls no longer fail the build",
    "Good: the team agreed to weekly releases on Tuesdays",
    "Deploy is done via ArgoCD",
    "Tests pass only when TZ=UTC is set",
    "Yes: keep the old endpoint until March",
    "Don't merge without a review from the billing team",
    "Releases are tagged vX.Y.Z and built by the release workflow",
    "Working directory must be the repo root",
    "Restart the worker after changing MEMMAN_DATA_DIR",
    "The build uses make and pytest",
    "Running tests requires Docker",
    "Pushed images expire after 30 days",
    "Check the build logs in /var/log/build before retrying",
    "Postgres",
    "Hi-res images go to the CDN bucket",
    "Thanks-giving week is a code freeze",
    "Merged PRs are squashed into one commit",
    "The nightly job restarts the server at 02:00 UTC",
]


@pytest.mark.parametrize("text", REJECTED)
def test_rejects_chatter(text):
    reason = gate(text)
    assert reason, f"{text!r} should be rejected"
    assert isinstance(reason, str) and len(reason) < 40


@pytest.mark.parametrize("text", KEPT)
def test_keeps_durable_memories(text):
    assert gate(text) is None, f"{text!r} wrongly rejected as {gate(text)!r}"


def test_enough_examples():
    assert len(REJECTED) >= 20
    assert len(KEPT) >= 25


@pytest.mark.parametrize("text, reason", [
    ("hi", "greeting"),
    ("Good morning!", "greeting"),
    ("thanks!", "thanks"),
    ("Thank you so much", "thanks"),
    ("ok sounds good", "acknowledgement"),
    ("lgtm", "acknowledgement"),
    ("tests pass", "receipt"),
    ("PR merged", "receipt"),
    ("build succeeded \u2705", "receipt"),
    ("I just ran the build", "receipt"),
    ("great, done", "receipt"),
    ("working on it", "status chatter"),
    ("Let me check", "status chatter"),
    ("\U0001f44d", "too short to be a memory"),
    ("??", "too short to be a memory"),
    ("ab", "too short to be a memory"),
    ("", "too short to be a memory"),
    ("   ", "too short to be a memory"),
])
def test_reasons(text, reason):
    assert gate(text) == reason


def test_three_word_characters_is_not_too_short():
    assert gate("abc") is None
    assert gate("X=1") == "too short to be a memory"


def test_any_durable_clause_keeps_the_text():
    assert gate("Done. Remember: VAULT_ADDR must be set for deploys") is None
    assert gate("thanks! Also, Alice owns billing") is None
    assert gate("Tests pass, but only with --runslow") is None


def test_long_texts_are_always_kept():
    chatter = " ".join(["done"] * (MAX_GATED_WORDS + 1))
    assert gate(chatter) is None


def test_quality_route_needs_both_signals():
    # Outside the clause grammar, but chatter-only words plus a deployment_receipt label.
    assert gate("Everything deployed to prod is now running") == "receipt"
    # Chatter-only words, no quality label: kept.
    assert gate("On main, passing tests now") is None
    # A quality label, but real content: kept.
    assert gate("Verified that the staging DB only accepts TLS 1.3") is None
    assert gate("Deployed the billing service to prod with Helm") is None


def test_deterministic():
    assert [gate(t) for t in REJECTED] == [gate(t) for t in REJECTED]


@pytest.mark.parametrize("unit", ["a", "ok ", "done ", "@so", "thanks, ", "\u2705", "a.", "\n",
                                  "tests pass. ", "ok" * 10])
def test_pathological_input_finishes(unit):
    text = (unit * (8000 // len(unit) + 1))[:8000]
    result = gate(text)
    assert result is None or isinstance(result, str)
