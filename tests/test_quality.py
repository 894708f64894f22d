"""Tests for memman.intake.quality: rule-based content-quality warnings."""

import re

import pytest

from memman.intake.quality import (
    DEFAULT_WEIGHT,
    LABELS,
    RULES,
    WEIGHTS,
    quality_warnings,
    severity,
)

EXPECTED_LABELS = (
    "aws_instance_id",
    "resource_count",
    "verification_receipt",
    "state_observation",
    "deployment_receipt",
    "line_number_reference",
    "line_count",
    "symbol_line_reference",
    "line_number_correction",
    "back_reference",
    "uppercase_header",
    "currently",
    "as_of_date",
)

# Durable, well-formed memories: none of these may warn.
CLEAN_MEMORIES = [
    "The user prefers tabs over spaces in Go code",
    "We chose PostgreSQL over MySQL because of JSONB support",
    "Deploy scripts live in ops/deploy and require VAULT_ADDR",
    "Alice owns the billing service",
    "Use `pytest -x` to stop at the first failure",
    "The API rate limit is 100 requests per minute",
    "Always run migrations before starting the server on port 8080",
    "Meeting notes go to docs/meetings/",
    "The staging DB is at db.internal:5432",
    "Python 3.11 is the minimum supported version",
    "Never commit .env files",
    "The team decided to release every two weeks",
    "Redis runs at localhost:6379 in development",
    "Use the python:3.11-slim base image for services",
    "The connection string is postgres://app@db:5432/app",
    "Standup is at 10:30 every weekday",
    "Keep functions under 50 lines",
    "Images are pushed to ECR by the CI pipeline",
    "Make sure all tests pass before merging",
    "The L2 cache is shared across workers",
    "Log levels above WARNING go to Sentry",
    "Use the AWS CLI v2 for scripts, not boto directly",
    "Feature branches are merged into main with squash commits",
    "Choosing the ORM is up to the service owner",
    "Mark work-in-progress PRs as drafts",
    "Add 2 blank lines between top-level definitions",
    "Run at least 3 replicas in production",
    "Use node:18 for the frontend build",
    "API docs live at https://example.com:8443/docs",
    "Bob prefers small PRs with a clear description",
    "Secrets are stored in Vault under kv/app/prod",
    "The frontend uses React with TypeScript and Vite",
    "Error messages must be user-facing and actionable",
    "Each worker processes 10 jobs at a time",
    "The CLI entry point is memman.cli.main:main",
    "Retry failed HTTP calls 3 times with exponential backoff",
    "Cron runs nightly at 02:00 UTC",
]


@pytest.mark.parametrize("text", CLEAN_MEMORIES)
def test_clean_memories_have_no_warnings(text):
    assert quality_warnings(text) == []


# label -> (positives, near-miss negatives). Positives must include the label;
# negatives must not.
CASES = {
    "aws_instance_id": (
        [
            "Bastion host is i-0abc123def4567890",
            "Terminate i-1a2b3c4d when the test is over",
            "ssh into (i-deadbeef) for logs",
        ],
        [
            "Use multi-deadbeef as the cache prefix",
            "The id i-12345 is a placeholder",
            "Run i-1234567890 is not an AWS id length",
        ],
    ),
    "resource_count": (
        [
            "3 pods running in the default namespace",
            "There are 12 instances behind the load balancer",
            "5 containers are up",
            "The scan found 42 files with lint errors",
            "Table has 1,200,000 rows after the backfill",
            "2 healthy nodes left in the pool",
        ],
        [
            "Keep batches under 500 rows",
            "Run at least 3 replicas in production",
            "Python 3.11 tests use the new tomllib module",
            "Never commit .env files",
        ],
    ),
    "verification_receipt": (
        [
            "Verified that the cache invalidation works",
            "I confirmed that the migration is reversible",
            "All 47 tests passed after the refactor",
            "Tests pass on CI now",
            "The tests have passed locally",
            "Build succeeded on the second try",
            "Lint fixed \u2713",
            "\u2705 docs regenerated",
            "I checked and it works",
        ],
        [
            "Make sure all tests pass before merging",
            "Only merge once the tests pass on CI",
            "Always verify the checksum before installing",
            "The build script lives in scripts/build.sh",
        ],
    ),
    "state_observation": (
        [
            "The worker is now running on the new image",
            "The API is down again",
            "Staging is up",
            "Status: waiting for review",
            "The migration is still pending",
            "Refactor of the auth module in progress",
            "Right now the queue is empty",
            "The service is currently degraded",
        ],
        [
            "Choosing the ORM is up to the service owner",
            "Keep dependencies up-to-date with Renovate",
            "Mark work-in-progress PRs as drafts",
            "Use `git status` before committing",
        ],
    ),
    "deployment_receipt": (
        [
            "Deployed to production at noon",
            "I pushed the fix to main",
            "Merged PR #42 into develop",
            "Released v1.2.3 with the new parser",
            "The new pricing page was rolled out",
            "Change committed as 3f9c2ab",
        ],
        [
            "Images are pushed to ECR by the CI pipeline",
            "Feature branches are merged into main with squash commits",
            "The main branch is auto-deployed to staging",
            "Never push to main directly",
            "We release every two weeks",
        ],
    ),
    "line_number_reference": (
        [
            "The bug is on line 42 of the parser",
            "See lines 10-20 for the retry loop",
            "Check L142 in handlers",
            "https://github.com/o/r/blob/main/app.py#L7",
        ],
        [
            "The L2 cache is shared across workers",
            "Use an L7 load balancer for gRPC",
            "Keep the CI pipeline 3x faster than before by caching",
            "Wrap long lines at 100 characters",
        ],
    ),
    "line_count": (
        [
            "server.py is 500 lines long",
            "A 1200-line file is hard to review",
            "The module is about 3k LOC",
            "The patch touched 2,400 lines",
        ],
        [
            "Keep functions under 50 lines",
            "Files over 800 lines should be split",
            "Add 2 blank lines between top-level definitions",
            "The bug is on line 42",
        ],
    ),
    "symbol_line_reference": (
        [
            "The crash is in server.py:120",
            "handleRequest:88 swallows the error",
            "See src/memman/store/db.py:42:7 for the lock",
            "parse_args:12 has the default",
            "UserService.createUser:301 validates emails",
            "Look at main:42 in the CLI",
        ],
        [
            "Standup is at 10:30 every weekday",
            "Redis runs at localhost:6379 in development",
            "The staging DB is at db.internal:5432",
            "Connect to 127.0.0.1:5432 with psql",
            "Postgres listens on db:5432",
            "Use a 1:2 ratio of primaries to replicas",
            "Set http:80 and https:443 listeners",
            "In the pipeline config, step:3 runs the linter",
            "Pin version:2 of the schema",
            "Use the python:3.11-slim image",
        ],
    ),
    "line_number_correction": (
        [
            "The handler moved 120 -> 134",
            "Line refs updated: 42\u219257",
            "offset 10->12 after the import was added",
        ],
        [
            "Bump the schema 1.2 -> 1.3",
            "Map user -> account in the importer",
            "Use a -> b notation for edges",
        ],
    ),
    "back_reference": (
        [
            "Same as memory[3] but for staging",
            "As mentioned above, use tabs",
            "See previous memory for the token",
            "Apply the above to all services",
            "As I said earlier, prefer composition",
        ],
        [
            "Log levels above WARNING go to Sentry",
            "Keep coverage above 90%",
            "The memory limit is 512Mi",
        ],
    ),
    "uppercase_header": (
        [
            "IMPORTANT NOTES:\nUse tabs in Go code",
            "## SUMMARY OF CHANGES\n- moved parser",
            "Context first.\nNEXT STEPS\nship it",
            "**KEY DECISIONS:** Postgres over MySQL",
        ],
        [
            "Use the AWS CLI to upload artifacts",
            "NOTE: the API is REST only",
            "AWS CLI: install it with brew",
            "Deploy scripts require VAULT_ADDR and AWS_REGION",
        ],
    ),
    "currently": (
        [
            "We currently use Redis for sessions",
            "Currently, the build takes ten minutes",
        ],
        [
            "Concurrently running jobs share one lock",
            "The current owner is Alice",
        ],
    ),
    "as_of_date": (
        [
            "The quota is 10 GB as of 2025-01-31",
            "As of today the flag is on",
            "as of now we use Redis 7",
            "Prices changed as of January",
            "As of last week staging uses ARM nodes",
        ],
        [
            "As of Python 3.11, use tomllib for TOML",
            "Treat the timestamp as offset-aware",
            "as often as possible, batch writes",
        ],
    ),
}


def test_labels_and_rule_order():
    assert LABELS == EXPECTED_LABELS
    assert tuple(label for label, _ in RULES) == EXPECTED_LABELS
    assert all(isinstance(pattern, re.Pattern) for _, pattern in RULES)
    assert set(WEIGHTS) == set(EXPECTED_LABELS)
    assert set(CASES) == set(EXPECTED_LABELS)


@pytest.mark.parametrize(
    "label,text",
    [(label, text) for label, (pos, _) in CASES.items() for text in pos],
)
def test_positive_examples(label, text):
    assert label in quality_warnings(text)


@pytest.mark.parametrize(
    "label,text",
    [(label, text) for label, (_, neg) in CASES.items() for text in neg],
)
def test_near_miss_examples(label, text):
    assert label not in quality_warnings(text)


def test_each_label_has_enough_examples():
    for label, (pos, neg) in CASES.items():
        assert len(pos) >= 2, label
        assert len(neg) >= 1, label


def test_order_is_rule_order_and_unique():
    text = (
        "as of today, currently i-0abc123def4567890 is up.\n"
        "STATUS REPORT:\n"
        "Verified that 3 pods running; deployed to prod; see line 42 "
        "and server.py:120 (moved 120 -> 134), a 500 lines file, "
        "as mentioned above. Verified that again, currently."
    )
    warnings = quality_warnings(text)
    assert warnings == list(EXPECTED_LABELS)
    assert len(warnings) == len(set(warnings))


def test_empty_text():
    assert quality_warnings("") == []
    assert quality_warnings("   \n\t") == []


def test_multiline_clean_text():
    text = "\n".join(CLEAN_MEMORIES)
    assert quality_warnings(text) == []


def test_severity_ordering():
    receipts = quality_warnings(
        "\u2705 Verified that all 12 tests passed. Deployed to prod; "
        "3 pods running and the API is now healthy."
    )
    header_only = quality_warnings("IMPORTANT NOTES:\nUse tabs in Go code")
    assert header_only == ["uppercase_header"]
    assert {"verification_receipt", "deployment_receipt", "state_observation"} <= set(receipts)
    assert severity(receipts) > severity(header_only)
    assert severity([]) == 0
    assert WEIGHTS["verification_receipt"] > WEIGHTS["uppercase_header"]
    assert WEIGHTS["state_observation"] > WEIGHTS["uppercase_header"]
    assert WEIGHTS["deployment_receipt"] > WEIGHTS["currently"]


def test_severity_sums_weights_and_handles_odd_input():
    assert severity(["currently", "as_of_date"]) == WEIGHTS["currently"] + WEIGHTS["as_of_date"]
    assert severity(["currently", "currently"]) == WEIGHTS["currently"]
    assert severity(["some_future_label"]) == DEFAULT_WEIGHT


def _fill(unit, size=8000):
    """Repeat ``unit`` to exactly ``size`` characters (>= ``size`` bytes)."""
    return (unit * (size // len(unit) + 1))[:size]


PATHOLOGICAL_UNITS = [
    "a",
    "aB",
    "a_",
    "a.",
    "a:",
    "a:1",
    "1:",
    "1 ",
    "1,",
    "1-",
    "1->",
    "i-",
    "i-0",
    " ",
    "\t \n",
    "A ",
    "AB ",
    "ABCD ",
    "ABCD/",
    "# ",
    "=-",
    "x.py",
    "x.py:",
    "foo::",
    "aB.cD",
    "line ",
    "lines 1 ",
    "tests ",
    "all 1 tests ",
    "as of ",
    "deployed ",
    "merged x ",
    "memory[",
    "the above ",
    "\u2713",
    "status: ",
    "3 pods running. server.py:120 line 42 ",
]
PATHOLOGICAL = [_fill(unit) for unit in PATHOLOGICAL_UNITS] + [
    _fill("ABCD ", 7999) + "x",  # long all-caps line that is not a header
    "\n".join(["IMPORTANT NOTES"] * 600),
    _fill("aB") + ":1",
    _fill("a.b") + ".py:1",
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_run(text):
    assert len(text.encode()) >= 8000
    warnings = quality_warnings(text)
    assert isinstance(warnings, list)
    assert set(warnings) <= set(EXPECTED_LABELS)
