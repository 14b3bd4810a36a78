"""The outside probe's field bomb, measured (issue 18 item 3): not a test, a measurement.

`python -m tests.reliability.field_bomb [--fields 997] [--at-once 3]` starts a service (no
workers, no warm-up), reads its resident memory (VmRSS, and the peak VmHWM, from /proc), then
sends `--at-once` concurrent submissions shaped like the probe's: `--fields` text fields of
1 MB each and one file, streamed without Content-Length. It prints each answer and the memory
before and after. The form parser stops each request at its first field over the 64 kB limit.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import running_server


def memory_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def body(fields: int, plate: bytes) -> Iterator[bytes]:
    yield b'--bb\r\nContent-Disposition: form-data; name="question"\r\n\r\nWhat is the serial number?\r\n'
    chunk = b"y" * 1_000_000
    for i in range(fields):
        yield f'--bb\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n'.encode() + chunk + b"\r\n"
    yield b'--bb\r\nContent-Disposition: form-data; name="files"; filename="p.png"\r\n\r\n' + plate + b"\r\n--bb--\r\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fields", type=int, default=997)
    parser.add_argument("--at-once", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plate = render_nameplate(Path(tmp) / "p.png").read_bytes()
        env = {"JIMOKU_WORKERS": "0", "JIMOKU_WARM_UP": "false"}
        with running_server(Path(tmp) / "data", extra_env=env) as server:
            before = memory_mb(server.proc.pid)
            key = server.keys["submitter"]

            def bomb(_: int) -> str:
                started = time.monotonic()
                try:
                    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
                        r = c.post("/v1/jobs", content=body(args.fields, plate),
                                   headers={"content-type": "multipart/form-data; boundary=bb"})
                    return f"{r.status_code} {r.json().get('detail')!r} in {time.monotonic() - started:.2f} s"
                except httpx.HTTPError as exc:  # the server closed the connection after answering
                    return f"{type(exc).__name__} after {time.monotonic() - started:.2f} s"

            with concurrent.futures.ThreadPoolExecutor(args.at_once) as pool:
                answers = list(pool.map(bomb, range(args.at_once)))
            after = memory_mb(server.proc.pid)
            healthy = httpx.get(f"{server.url}/healthz").status_code
    for answer in answers:
        print("answer:", answer)
    print(f"server RSS before {before['VmRSS']:.0f} MB; after {after['VmRSS']:.0f} MB; "
          f"peak {after['VmHWM']:.0f} MB (peak before: {before['VmHWM']:.0f} MB); /healthz {healthy}")


if __name__ == "__main__":
    main()
