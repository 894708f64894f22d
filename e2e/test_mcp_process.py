"""``memman mcp`` as a real process, spoken to in JSON-RPC lines over its stdin/stdout."""
import json
import subprocess
import sys

import pytest


class McpProcess:
    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.next_id = 0

    def send(self, message) -> None:
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.proc.stdin.write(raw + b"\n")
        self.proc.stdin.flush()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read().decode()
        return json.loads(line)  # every stdout line must be JSON

    def request(self, method, params=None) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                   "params": params or {}})
        answer = self.read()
        assert answer["id"] == self.next_id, answer
        return answer

    def tool(self, name, **arguments) -> dict:
        return self.request("tools/call", {"name": name, "arguments": arguments})["result"]

    def close(self):
        """EOF on stdin; returns (exit code, rest of stdout, stderr)."""
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


@pytest.fixture
def server(memman_bin, env):
    started = McpProcess([memman_bin, "mcp"], env)
    yield started
    if started.proc.poll() is None:
        started.proc.kill()
        started.proc.wait()


def test_conformance(server, mmj):
    # a 2026 client probes server/discover first and falls back on -32601
    assert server.request("server/discover")["error"]["code"] == -32601
    init = server.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                         "clientInfo": {"name": "e2e", "version": "1"}})
    result = init["result"]
    assert result["protocolVersion"] == "2025-11-25"
    assert result["serverInfo"]["name"] == "memman" and "tools" in result["capabilities"]
    # a notification gets no answer: the next line read answers the ping after it
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert server.request("ping")["result"] == {}
    tools = server.request("tools/list")["result"]["tools"]
    assert {t["name"] for t in tools} == {"memory_recall", "memory_remember", "memory_forget",
                                          "memory_show", "memory_status"}
    assert all(t["description"] and t["inputSchema"]["type"] == "object" for t in tools)

    queued = server.tool("memory_remember", text="The e2e cluster runs Nomad, not Kubernetes",
                         category="fact", importance=4, entities=["Nomad"])
    assert queued["isError"] is False and queued["structuredContent"]["action"] == "queued"
    mmj("scheduler", "drain")  # another process stores it while the server runs
    recalled = server.tool("memory_recall", query="Nomad cluster", limit=3)
    hits = recalled["structuredContent"]["results"]
    assert recalled["isError"] is False and "Nomad" in hits[0]["insight"]["content"]
    mid = hits[0]["insight"]["id"]
    assert server.tool("memory_show", id=mid)["structuredContent"]["id"] == mid
    status = server.tool("memory_status")["structuredContent"]
    assert status["total_insights"] == 1 and status["store"] == "default"
    assert server.tool("memory_forget", id=mid)["structuredContent"]["status"] == "deleted"

    failed = server.tool("memory_show", id="no-such-id")  # a tool error, not a crash
    assert failed["isError"] is True and "not found" in failed["content"][0]["text"]
    assert server.request("resources/list")["error"]["code"] == -32601
    assert server.request("tools/call", {"name": "memory_nope"})["error"]["code"] == -32602
    server.send(b"this is not json")
    assert server.read()["error"]["code"] == -32700
    assert server.request("ping")["result"] == {}  # still serving
    code, rest, err = server.close()
    assert code == 0 and rest == b"", err


def test_hot_path_remember_imports_nothing_heavy(env, tmp_path):
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18"}},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "memory_remember", "arguments": {"text": "Light path"}}}]
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "memman", "mcp"],
                          input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert answers[1]["result"]["isError"] is False
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0]
                for line in proc.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "memman" in imported
    assert not imported & {"numpy", "httpx", "psycopg", "tqdm"}


def test_official_mcp_client(memman_bin, env):
    mcp = pytest.importorskip("mcp", reason="the optional 'mcp' package is not installed")
    import asyncio

    from mcp.client.stdio import StdioServerParameters

    async def talk():
        params = StdioServerParameters(command=memman_bin, args=["mcp"], env=env)
        async with mcp.Client(params) as client:
            tools = await client.list_tools()
            status = await client.call_tool("memory_status", {})
            return tools, status

    tools, status = asyncio.run(talk())
    names = {t.name for t in getattr(tools, "tools", tools)}
    assert "memory_recall" in names and not status.isError


def test_a_closed_stdout_ends_the_server_quietly(memman_bin, env):
    proc = subprocess.Popen([memman_bin, "mcp"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    _, err = proc.communicate(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n', timeout=30)
    assert proc.returncode == 0 and b"Traceback" not in err, err
