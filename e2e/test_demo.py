"""The README's demo runs as written and finds what it remembered."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_script(memman_bin, env):
    proc = subprocess.run(["bash", str(ROOT / "e2e" / "demo.sh"), memman_bin], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert '"processed": 5' in out
    assert '"skip_reason"' in out  # the chatter was gated out
    assert "PostgreSQL over MySQL" in out
    assert "Alice owns the billing service" in out
    assert "The staging API token is [REDACTED:openai_key] do not share" in out
    assert out.count("sk-proj-AbCd") == 1  # only the echoed command line shows it
    assert "4 active" in out
