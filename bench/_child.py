"""Run one benchmark cell in a fresh interpreter (so its peak RSS is its own) and read its JSON line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def run_child(cmd: list[str], timeout: float, cwd: Path) -> dict[str, Any]:
    """The last stdout line of ``cmd`` as JSON, or ``{"error": ...}`` when it timed out or failed."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["crashed"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])
