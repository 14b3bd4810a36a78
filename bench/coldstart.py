"""Cold start: from `jimoku serve` process start to the first `/readyz` 200.

The service is started with the test fixtures' `start_server` (a subprocess on a free
loopback port); a side thread polls `/readyz` every 100 ms from just before the start, so
the time measured is not stretched by `start_server`'s own 0.5 s polling or by the API
keys it creates afterwards.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.machine import process_memory_mb
from bench.report import Row, Section
from tests.fixtures.server import Server, free_port, start_server

POLL_S = 0.1


def _watch(url: str, started: float, stop: threading.Event, seen: dict[str, Any]) -> None:
    while not stop.is_set():
        try:
            response = httpx.get(f"{url}/readyz", timeout=2)
            if response.status_code == 200:
                seen["ready_s"] = time.perf_counter() - started
                seen["readyz"] = response.json()
                return
        except httpx.HTTPError:
            pass
        stop.wait(POLL_S)


def start(data_dir: Path, *, timeout_s: float = 300, extra_env: dict[str, str] | None = None) -> tuple[Server, Section]:
    """Start the service; returns it (ready, with keys) and the cold-start section."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop, seen = threading.Event(), {}
    started = time.perf_counter()
    watcher = threading.Thread(target=_watch, args=(url, started, stop, seen), daemon=True)
    watcher.start()
    try:
        server = start_server(data_dir, port=port, ready_timeout=timeout_s, extra_env=extra_env)
    finally:
        watcher.join(10)
        stop.set()
    ready = seen.get("ready_s")
    memory = process_memory_mb(server.proc.pid)
    warm = seen.get("readyz", {}).get("warm_up", {})
    section = Section("cold start", raw={"ready_s": ready, "readyz": seen.get("readyz"), "memory_mb": memory}, notes=[
        "model files were in the page cache (earlier runs), so this is a warm-disk cold start; "
        f"warm-up per model: {', '.join(f'{k} {v}' for k, v in warm.items()) or 'n/a'}"])
    section.rows.append(Row("cold start", "process start → /readyz 200 (planner, detector, Whisper loaded)",
                            f"{ready:.1f} s" if ready is not None else "-"))
    section.rows.append(Row("cold start", "server RSS / PSS once ready, before any job",
                            f"{memory.get('VmRSS', 0):,.0f} MB / {memory.get('Pss', 0):,.0f} MB"))
    return server, section


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after 20 s (as `running_server` does)."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(20)
        except Exception:
            server.proc.kill()
            server.proc.wait(10)
