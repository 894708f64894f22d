"""Whole commands on a Postgres store: the queue stays SQLite on this host, memories go
to a schema on the session's private PostgreSQL."""
import pytest


@pytest.fixture
def pg_env(pg_dsn, ok):
    """A data dir whose stores default to Postgres on the test server."""
    ok("config", "set", "MEMMAN_DEFAULT_BACKEND", "postgres")
    ok("config", "set", "MEMMAN_DEFAULT_POSTGRES_DSN", pg_dsn)
    return pg_dsn


def _schemas(dsn):
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}


def test_remember_drain_recall_forget(pg_env, ok, remember_drained, data_dir):
    first = remember_drained("Alice owns the billing service and its PostgreSQL schema")
    remember_drained("Bob maintains the deploy pipeline on GitHub Actions")
    assert "store_default" in _schemas(pg_env)
    assert not (data_dir / "data" / "default" / "memman.db").exists()
    assert (data_dir / "queue.db").is_file()  # the queue stays SQLite on this host
    out = ok("recall", "who owns billing")
    assert out["results"][0]["insight"]["id"] == first
    assert out["meta"]["vector_source"] == "index"
    basic = ok("recall", "--basic", "pipeline")
    assert basic and "deploy pipeline" in str(basic)
    ok("forget", first)
    again = ok("recall", "who owns billing")
    assert first not in [r["insight"]["id"] for r in again["results"]]


def test_worker_binds_vector_size_from_fingerprint(pg_env, remember_drained):
    import psycopg

    remember_drained("The cache uses Redis with a five minute TTL")
    with psycopg.connect(pg_env) as conn:
        kind = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'store_default.insights'::regclass AND attname = 'embedding'"
        ).fetchone()[0]
        indexes = [r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'store_default' "
            "AND indexdef LIKE '%hnsw%'")]
    assert kind.startswith("vector(") and indexes == ["idx_insights_hnsw"]


def test_status_reports_the_postgres_store(pg_env, ok, remember_drained):
    remember_drained("Carol prefers tabs over spaces in Go code")
    out = ok("status")
    text = str(out)
    assert "store_default" in text and "postgres" in text.lower()


def test_recall_of_a_missing_postgres_store_is_empty(pg_env, ok):
    out = ok("recall", "anything")
    assert out["results"] == [] and out["meta"]["store_exists"] is False
    assert "store_default" not in _schemas(pg_env)


def test_store_create_list_remove(pg_env, ok, run):
    created = ok("store", "create", "Team-Notes")
    assert created["action"] == "created" and "store__team_notes_" in created["path"]
    clash = run("store", "create", "Team-Notes")
    assert clash.exit_code == 1 and "already exists" in clash.stderr
    assert "Team-Notes" in ok("store", "list")["stores"]
    removed = ok("store", "remove", "Team-Notes", "--yes")
    assert removed["action"] == "removed" and removed["archived_to"].startswith("archived_")
    assert "Team-Notes" not in ok("store", "list")["stores"]
    assert removed["archived_to"] in _schemas(pg_env)  # archived, never dropped
    missing = run("store", "remove", "Team-Notes", "--yes")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_store_list_names_per_store_postgres_keys(pg_dsn, ok):
    ok("config", "set", "MEMMAN_BACKEND_remote", "postgres")
    ok("config", "set", "MEMMAN_POSTGRES_DSN_remote", pg_dsn)
    assert "remote" in ok("store", "list")["stores"]


def test_missing_dsn_is_a_clear_error(ok, run):
    ok("config", "set", "MEMMAN_DEFAULT_BACKEND", "postgres")
    result = run("recall", "x")
    assert result.exit_code == 1 and "set-pg-dsn" in result.stderr


def test_set_pg_dsn_builds_an_encoded_url_and_hides_the_password(ok, run, data_dir):
    answers = "db.example.com\n6543\nmemman\nme@corp\np@ss:w/rd\nrequire\n"
    result = run("config", "set-pg-dsn", "--store", "work", input=answers)
    assert result.exit_code == 0, result
    assert "p@ss" not in result.stdout and "p@ss" not in result.stderr
    env = (data_dir / "env").read_text()
    assert ("MEMMAN_POSTGRES_DSN_work=postgresql://me%40corp:p%40ss%3Aw%2Frd@"
            "db.example.com:6543/memman?sslmode=require") in env
    assert "MEMMAN_BACKEND_work" not in env  # only with --use
    out = ok("config", "set-pg-dsn", "--default", "--use",
             input="\n\n\npostgres\n\n\n")
    env = (data_dir / "env").read_text()
    assert "MEMMAN_DEFAULT_POSTGRES_DSN=postgresql://postgres@localhost:5432/memman\n" in env
    assert "MEMMAN_DEFAULT_BACKEND=postgres" in env and out["key"] == "MEMMAN_DEFAULT_POSTGRES_DSN"


def test_set_pg_dsn_needs_exactly_one_target(run):
    assert run("config", "set-pg-dsn", input="\n" * 6).exit_code == 2
    assert run("config", "set-pg-dsn", "--default", "--store", "x",
               input="\n" * 6).exit_code == 2


def test_install_backend_postgres_probes_and_writes(pg_dsn, ok, run, data_dir):
    out = ok("install", "--no-wizard", "--no-scheduler", "--backend", "postgres",
             "--pg-dsn", pg_dsn)
    assert out["config"]["MEMMAN_DEFAULT_BACKEND"] == "postgres"
    assert "MEMMAN_DEFAULT_POSTGRES_DSN=" + pg_dsn in (data_dir / "env").read_text()


def test_install_backend_postgres_refuses_an_unreachable_server(run, data_dir):
    result = run("install", "--no-wizard", "--no-scheduler", "--backend", "postgres",
                 "--pg-dsn", "postgresql://me:hunter2@127.0.0.1:1/memman")
    assert result.exit_code == 1 and "hunter2" not in result.stderr
    assert "cannot connect" in result.stderr
    env = data_dir / "env"
    assert not env.exists() or "MEMMAN_DEFAULT_BACKEND=postgres" not in env.read_text()
