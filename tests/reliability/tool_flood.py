"""The outside probe's tool flood, measured (issue 18 item 8): not a test, a measurement.

`python -m tests.reliability.tool_flood [--calls 45] [--wav-mb 190]` starts a service (no job
workers, tools warmed up), sends `--calls` concurrent `POST /v1/tools/asr` with a short spoken
WAV while polling `/healthz` every 50 ms, and prints: the tool answers by status (200, or 503 with
Retry-After past `JIMOKU_MAX_TOOL_CALLS`), the slowest tool answer, and `/healthz` p50/p95/max.
Then it sends one `--wav-mb` zero-padded WAV to the same route and to `POST /v1/jobs` and prints
each answer with the server's CPU seconds it cost (from /proc: user + system).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import struct
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.fixtures.audio import flite_wav
from tests.fixtures.server import running_server


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def zero_wav(path: Path, mb: int) -> Path:
    data = mb * 1_000_000
    header = (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
              + b"data" + struct.pack("<I", data))
    with path.open("wb") as out:
        out.write(header)
        out.truncate(len(header) + data)  # zeros, without writing them
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=45)
    parser.add_argument("--wav-mb", type=int, default=190)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memo = flite_wav("The serial number is A X four four seven one B.", Path(tmp) / "memo.wav").read_bytes()
        env = {"JIMOKU_WORKERS": "0", "JIMOKU_RATE_LIMIT_PER_MINUTE": "100000"}
        with running_server(Path(tmp) / "data", extra_env=env, ready_timeout=600) as server:
            headers = {"Authorization": f"Bearer {server.keys['submitter']}"}
            health: list[float] = []
            stop = threading.Event()

            def poll() -> None:
                with httpx.Client(base_url=server.url, timeout=120) as c:
                    while not stop.is_set():
                        started = time.monotonic()
                        c.get("/healthz").raise_for_status()
                        health.append(time.monotonic() - started)
                        time.sleep(0.05)

            def call(_: int) -> tuple[int, float, str | None]:
                started = time.monotonic()
                with httpx.Client(base_url=server.url, headers=headers, timeout=600) as c:
                    r = c.post("/v1/tools/asr", files={"file": ("memo.wav", memo)})
                return r.status_code, time.monotonic() - started, r.headers.get("Retry-After")

            poller = threading.Thread(target=poll)
            poller.start()
            with concurrent.futures.ThreadPoolExecutor(args.calls) as pool:
                answers = list(pool.map(call, range(args.calls)))
            stop.set()
            poller.join()
            by_status = Counter(code for code, _, _ in answers)
            slowest = max(seconds for _, seconds, _ in answers)
            retry = {after for code, _, after in answers if code == 503}
            q = statistics.quantiles(health, n=20)
            print(f"{args.calls} concurrent asr calls: {dict(by_status)} (503 Retry-After {sorted(retry)}); "
                  f"slowest answer {slowest:.1f} s")
            print(f"/healthz during the flood: {len(health)} polls, p50 {statistics.median(health) * 1000:.0f} ms, "
                  f"p95 {q[18] * 1000:.0f} ms, max {max(health) * 1000:.0f} ms")

            big = zero_wav(Path(tmp) / "zero.wav", args.wav_mb)
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as c:
                for route, send in (("/v1/tools/asr", lambda f: c.post("/v1/tools/asr", files={"file": ("zero.wav", f)})),
                                    ("/v1/jobs", lambda f: c.post("/v1/jobs", data={"question": "What is said?"},
                                                                  files=[("files", ("zero.wav", f))]))):
                    before, started = cpu_seconds(server.proc.pid), time.monotonic()
                    with big.open("rb") as f:
                        r = send(f)
                    print(f"{args.wav_mb} MB zero-padded WAV to {route}: {r.status_code} {r.json()['detail']!r}; "
                          f"server CPU {cpu_seconds(server.proc.pid) - before:.2f} s, wall {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
