"""What the benchmark ran on, and how busy the machine was while it ran (the box is shared)."""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gb() -> float:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _load1() -> float:
    return float(open("/proc/loadavg", encoding="utf-8").read().split()[0])


@dataclass
class LoadMonitor:
    """Samples the 1-minute load average, and splits CPU use into ours and everyone else's.

    Our share is this process's CPU time plus that of its waited-for children (the
    service subprocess, Tesseract and ffmpeg runs); the rest of the machine's busy time
    belongs to other work on the shared box.
    """

    interval_s: float = 5.0
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.load_before = _load1()
        self.busy0, self.total0 = _busy_jiffies()
        self.own0 = sum(os.times()[:4])
        self.t0 = time.monotonic()
        threading.Thread(target=self._run, name="load-monitor", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append(_load1())

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the load figures for the report."""
        self._stop.set()
        busy1, _ = _busy_jiffies()
        hz = os.sysconf("SC_CLK_TCK")
        elapsed = time.monotonic() - self.t0
        cpus = os.cpu_count() or 1
        busy_s = (busy1 - self.busy0) / hz
        own_s = sum(os.times()[:4]) - self.own0
        return {
            "load1_before": self.load_before,
            "load1_mean": round(sum(self.samples) / len(self.samples), 2) if self.samples else None,
            "load1_max": max(self.samples) if self.samples else None,
            "cpu_busy_pct": round(100 * busy_s / (elapsed * cpus), 1),
            "cpu_used_by_benchmark_pct": round(100 * own_s / (elapsed * cpus), 1),
            "cpu_used_by_others_pct": round(100 * max(busy_s - own_s, 0) / (elapsed * cpus), 1),
        }


def describe() -> dict[str, Any]:
    """nproc, CPU model, memory, OS and Python."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gb": _mem_total_gb(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def process_memory_mb(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, and its proportional
    share (Pss: a file page mapped twice, e.g. model weights opened by two llama.cpp
    contexts, counts twice in RSS but once in Pss), in MB."""
    out: dict[str, float] = {}
    for name, keys in ((f"/proc/{pid}/status", ("VmHWM", "VmRSS")), (f"/proc/{pid}/smaps_rollup", ("Pss",))):
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out
