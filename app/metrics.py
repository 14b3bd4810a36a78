"""Prometheus metrics: jobs by state, queue length, tool latency, review turnaround."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.store.event_log import EventLog, EventRecord
from app.store.jobs import JobStore
from graphs.contract import Event


class _JobStates(Collector):
    """Read at scrape time from the job table, so it is right after a restart too."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.jobs.counts_by_status()
        by_state = GaugeMetricFamily("jimoku_jobs", "Jobs by state", labels=["state"])
        for state, n in counts.items():
            by_state.add_metric([state], n)
        yield by_state
        yield GaugeMetricFamily("jimoku_queue_length", "Jobs waiting for a worker", value=counts["queued"])
        yield GaugeMetricFamily("jimoku_review_queue_length", "Jobs waiting for a reviewer",
                                value=counts["awaiting_review"])


class Metrics:
    """One registry per service instance (tests start several)."""

    def __init__(self, jobs: JobStore, *, log: EventLog | None = None) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobStates(jobs))
        self.tool_seconds = Histogram(
            "jimoku_tool_seconds", "Tool call latency (cached calls excluded)", ["tool", "ok"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300), registry=self.registry,
        )
        self.review_seconds = Histogram(
            "jimoku_review_turnaround_seconds", "From awaiting review to a decision", ["decision"],
            buckets=(10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600), registry=self.registry,
        )
        self.jobs = jobs
        self.log = log
        """Set when workers elsewhere run the jobs: their events are read from the log (`refresh`)."""
        self._seen = log.last_id() if log is not None else 0
        """The last event counted: from this process's start on."""
        self._catching_up = threading.Lock()

    def refresh(self) -> None:
        """With workers on other machines, count the events they wrote to the log since this process
        started (called at scrape time, so /metrics on any API shows the cluster); else nothing."""
        if self.log is None:
            return
        with self._catching_up:
            while batch := self.log.tail(self._seen):
                for seq, job_id, event in batch:
                    self.on_event(job_id, event)
                    self._seen = seq

    def on_event(self, job_id: str, event: EventRecord) -> None:
        """EventBus listener: tool latencies and review turnaround."""
        data = event["data"]
        if event["event"] == Event.STEP_FINISHED and not data.get("cached"):
            self.tool_seconds.labels(data["tool"], str(bool(data["ok"])).lower()).observe(data["duration_ms"] / 1000)
        elif event["event"] == Event.FINALIZED:
            job = self.jobs.get(job_id)
            review = data.get("review") or {}
            if job.awaiting_since and review.get("decision") != "auto_approve":
                waited = datetime.fromisoformat(review.get("at") or job.updated_at) - datetime.fromisoformat(job.awaiting_since)
                self.review_seconds.labels(review.get("decision", "unknown")).observe(max(0.0, waited.total_seconds()))
