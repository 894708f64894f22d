"""The MCP server's dispatch, in process: JSON-RPC framing, errors, and tools that
return exactly what the matching CLI command prints."""
import json

import pytest

from memman.cli.context import App
from memman.mcp import protocol
from memman.mcp.server import Server
from memman.mcp.tools import TOOLS

SECRET = "sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCD"


@pytest.fixture
def server():
    return Server(lambda: App())


def request(server, method, params=None, msg_id=1):
    message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    return server.handle(message)


def call(server, name, **arguments):
    answer = request(server, "tools/call", {"name": name, "arguments": arguments})
    assert "result" in answer, answer
    return answer["result"]


def document(result):
    assert result["isError"] is False, result
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    return result["structuredContent"]


def error_code(answer):
    return answer["error"]["code"]


# -- protocol -------------------------------------------------------------------------------
@pytest.mark.parametrize("asked, answered", [("2025-06-18", "2025-06-18"),
                                             ("2024-11-05", "2024-11-05"),
                                             ("1999-01-01", protocol.PROTOCOL_VERSIONS[0])])
def test_initialize_negotiates_the_protocol_version(server, asked, answered):
    result = request(server, "initialize", {"protocolVersion": asked, "capabilities": {},
                                            "clientInfo": {"name": "t", "version": "1"}})["result"]
    assert result["protocolVersion"] == answered
    assert result["serverInfo"]["name"] == "memman" and result["serverInfo"]["version"]
    assert "tools" in result["capabilities"]


def test_notifications_and_client_answers_get_no_reply(server):
    assert server.handle({"jsonrpc": "2.0", "method": "notifications/initialized"}) is None
    assert server.handle({"jsonrpc": "2.0", "method": "notifications/cancelled",
                          "params": {"requestId": 3}}) is None
    assert server.handle({"jsonrpc": "2.0", "id": 9, "result": {}}) is None


@pytest.mark.parametrize("method", ["server/discover", "resources/list", "no/such"])
def test_unknown_methods_are_method_not_found(server, method):
    answer = request(server, method, msg_id="abc")
    assert answer["id"] == "abc" and error_code(answer) == protocol.METHOD_NOT_FOUND


def test_ping_answers_an_empty_result(server):
    assert request(server, "ping")["result"] == {}


@pytest.mark.parametrize("message", [
    [{"jsonrpc": "2.0", "id": 1, "method": "ping"}],            # a batch
    "ping",                                                      # not an object
    {"id": 1, "method": "ping"},                                 # no jsonrpc
    {"jsonrpc": "2.0", "id": 1},                                 # no method
    {"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"},        # bad id
    {"jsonrpc": "2.0", "id": True, "method": "ping"},
])
def test_invalid_requests(server, message):
    assert error_code(server.handle(message)) == protocol.INVALID_REQUEST


@pytest.mark.parametrize("line", [b"{not json", b"\xff\xfe", b'{"jsonrpc": "2.0", "id": 1,'])
def test_malformed_lines_are_parse_errors(server, line):
    answer = server.handle_line(line)
    assert answer["id"] is None and error_code(answer) == protocol.PARSE_ERROR


def test_params_must_be_an_object(server):
    assert error_code(request(server, "tools/list", [1])) == protocol.INVALID_PARAMS


def test_tools_list_describes_every_tool(server):
    tools = request(server, "tools/list", {})["result"]["tools"]
    assert {t["name"] for t in tools} == {"memory_recall", "memory_remember", "memory_forget",
                                          "memory_show", "memory_status"}
    for tool in tools:
        assert tool["description"] and tool["inputSchema"]["type"] == "object"
        assert set(tool["inputSchema"].get("required", [])) <= set(
            tool["inputSchema"]["properties"])
    json.dumps(TOOLS)  # serialisable as sent


@pytest.mark.parametrize("params", [
    {"name": "memory_nope", "arguments": {}},
    {"name": "memory_remember", "arguments": {}},
    {"name": "memory_remember", "arguments": {"text": 5}},
    {"name": "memory_remember", "arguments": {"text": "x", "importance": "high"}},
    {"name": "memory_remember", "arguments": {"text": "x", "entities": "Kafka"}},
    {"name": "memory_remember", "arguments": {"text": "x", "colour": "red"}},
    {"name": "memory_recall", "arguments": {"query": "x", "limit": True}},
    {"name": "memory_show", "arguments": ["id"]},
    {"arguments": {}},
])
def test_malformed_tool_calls_are_invalid_params(server, params):
    assert error_code(request(server, "tools/call", params)) == protocol.INVALID_PARAMS


# -- tools = the CLI's documents --------------------------------------------------------------
def test_remember_queues_like_the_cli_and_redacts_secrets(server, ok, data_dir):
    cli = ok("remember", f"Deploys use Helm; key {SECRET}", "--imp", "4")
    mcp = document(call(server, "memory_remember", text=f"Deploys use Helm; key {SECRET}",
                        importance=4))
    assert mcp["queue_id"] == cli["queue_id"] + 1
    assert {k: v for k, v in mcp.items() if k != "queue_id"} == \
        {k: v for k, v in cli.items() if k != "queue_id"}
    assert mcp["redacted"] and SECRET not in (data_dir / "queue.db").read_bytes().decode(
        "utf-8", "replace")
    row = ok("scheduler", "queue", "show", str(mcp["queue_id"]))
    assert row["hints"]["importance"] == 4


def test_remember_passes_category_and_entities_as_hints(server, ok):
    out = document(call(server, "memory_remember", text="Kafka replaced RabbitMQ for events",
                        category="decision", importance=5.0, entities=["Kafka", "RabbitMQ"]))
    hints = ok("scheduler", "queue", "show", str(out["queue_id"]))["hints"]
    assert (hints["category"], hints["importance"], hints["entities"]) == \
        ("decision", 5, ["Kafka", "RabbitMQ"])


@pytest.mark.parametrize("arguments, message", [
    ({"text": "x y z", "importance": 9}, "importance must be 1-5, got 9"),
    ({"text": "x y z", "category": "gossip"}, "invalid category 'gossip'"),
    ({"text": "   "}, "content is empty"),
])
def test_remember_rejections_are_tool_errors_with_the_cli_message(server, run, arguments,
                                                                   message):
    result = call(server, "memory_remember", **arguments)
    assert result["isError"] is True and message in result["content"][0]["text"]
    assert not (run("scheduler", "queue").json["rows"])  # nothing queued


def test_a_stopped_scheduler_is_a_tool_error(server, ok):
    ok("scheduler", "stop")
    result = call(server, "memory_remember", text="something worth keeping")
    assert result["isError"] is True
    assert "Scheduler is stopped; cannot write" in result["structuredContent"]["error"]


def test_recall_matches_the_cli_and_writes_no_more(server, ok, remember_drained, data_dir):
    for text in ("The billing service keeps invoices in Postgres",
                 "Kafka carries the billing events", "Alice prefers pytest fixtures"):
        remember_drained(text)
    from tests.fakes.worker_helpers import store

    def counters():
        with store(data_dir) as backend:
            ops = backend.conn.execute("SELECT count(*) FROM oplog").fetchone()[0]
            access = backend.conn.execute("SELECT sum(access_count) FROM insights").fetchone()[0]
        return ops, access

    before = counters()
    cli = ok("recall", "billing invoices", "--limit", "2")
    after_cli = counters()
    mcp = document(call(server, "memory_recall", query="billing invoices", limit=2))
    after_mcp = counters()
    assert [r["insight"]["id"] for r in mcp["results"]] == \
        [r["insight"]["id"] for r in cli["results"]]
    assert set(mcp["meta"]) == set(cli["meta"]) and len(mcp["results"]) == 2
    assert [after_mcp[i] - after_cli[i] for i in (0, 1)] == \
        [after_cli[i] - before[i] for i in (0, 1)]


def test_recall_rejections(server):
    assert "unknown intent 'how'" in call(server, "memory_recall", query="x",
                                          intent="how")["content"][0]["text"]
    assert "limit must be 1-1000" in call(server, "memory_recall", query="x",
                                          limit=0)["content"][0]["text"]
    assert call(server, "memory_recall", query=" ")["isError"] is True


def test_show_forget_and_status_match_the_cli(server, ok, remember_drained):
    mid = remember_drained("The staging cluster runs on Kubernetes")
    assert document(call(server, "memory_show", id=mid)) == ok("insights", "show", mid)
    status = document(call(server, "memory_status"))
    cli_status = ok("status")
    for doc in (status, cli_status):
        doc["queue"].pop("oldest_pending_age_seconds", None)
    assert status == cli_status
    forgotten = document(call(server, "memory_forget", id=mid))
    assert forgotten["status"] == "deleted" and forgotten["id"] == mid
    assert "deleted_at" in ok("insights", "show", mid)
    again = call(server, "memory_forget", id=mid)
    assert again["isError"] is True and f"insight '{mid}' not found" in again["content"][0]["text"]


def test_each_call_resolves_the_store_again(server, ok):
    assert document(call(server, "memory_status"))["store"] == "default"
    ok("store", "create", "work")
    ok("store", "use", "work")
    assert document(call(server, "memory_remember", text="A fact for work"))["store"] == "work"
    pinned = Server(lambda: App(store_option="other"))
    assert document(call(pinned, "memory_remember", text="A fact for other"))["store"] == "other"


def test_mcp_command_speaks_json_lines_on_stdout_only(run):
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25"}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "memory_status", "arguments": {}}}]
    text = "\n".join(json.dumps(m) for m in lines) + "\nnot json\n"
    result = run("mcp", input=text)
    assert result.exit_code == 0, result
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, 2, None]
    assert answers[1]["result"]["structuredContent"]["store"] == "default"
