"""Intake: a question and files become a stored, queued job, or are refused with a reason.

Everything is checked before anything is stored (question, number of files, each file's
kind and contents), so a refused request leaves nothing behind; an accepted one is in
the job table before it is handed to the queue, so it cannot be lost.

Work is bounded per API key (issue 18): a key with `max_queued_jobs_per_key` jobs queued or
running is refused (429, `QuotaExceeded`), and so is a submission that would take the bytes its
key's unpruned jobs hold past `max_stored_bytes_per_key` (507). The check and the insert are not
one transaction, so requests racing each other may pass a limit by the few in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from app.errors import JobRejected
from app.jobqueue import JobQueue
from app.settings import Settings
from app.store.artifacts import ArtifactStore
from app.store.jobs import JobRow, JobStore, set_stored_bytes, stored_bytes, unfinished_jobs
from app.uploads import as_uploaded, check_wav_header
from graphs.context import EventSink
from graphs.contract import Event
from graphs.state import Attachment
from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.files import sniff_kind
from tools.registry import FileKind
from tools.validate import validate_file

log = logging.getLogger(__name__)


QUOTA_RETRY_AFTER_SECONDS = 60
"""A key at its queue limit is told to come back after about one job's run."""


class QuotaExceeded(JobRejected):
    """The key is at one of its limits; nothing was stored. `status` is the HTTP answer (429 for
    queued jobs, with `retry_after`; 507 for stored bytes)."""

    def __init__(self, message: str, *, status: int, code: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after


class Intake:
    """`submit` validates and stores a job, then queues it."""

    def __init__(self, settings: Settings, *, tool_ctx: ToolContext, artifacts: ArtifactStore, jobs: JobStore,
                 emit: EventSink, queue: JobQueue) -> None:
        self.settings = settings
        self.tool_ctx = tool_ctx
        self.artifacts = artifacts
        self.jobs = jobs
        self.emit = emit
        self.queue = queue

    def submit(self, question: str, files: Sequence[tuple[Path, str]], *, auto_approve: bool = False,
               submitted_by: str | None = None, submitter_key: str | None = None) -> JobRow:
        """Validate and store the inputs, record a queued job, queue it. Raises `JobRejected`."""
        question = self._check(question, files)
        size = sum(path.stat().st_size for path, _ in files)
        if submitter_key is not None:
            self._check_quota(submitter_key, size)
        attachments: list[Attachment] = []
        for i, (path, name) in enumerate(files, start=1):
            try:
                kind = sniff_kind(path)
                if kind is FileKind.AUDIO:  # a WAV's length from its header, before any decoding
                    check_wav_header(path, name, self.tool_ctx.max_audio_seconds)
                validate_file(path, kind, self.tool_ctx)
            except ToolInputError as exc:
                raise JobRejected(f"file {i} ({name}): {as_uploaded(str(exc), path, name)}") from None
            sha, _ = self.artifacts.put(path)
            attachments.append(Attachment(id=f"f{i}", name=name, kind=kind.value, sha256=sha))
        job = self.jobs.create(question, attachments, auto_approve, submitted_by, submitter_key)
        set_stored_bytes(self.jobs.db, job.id, size)
        self.emit(job.id, Event.QUEUED, {"status": "queued"})
        # Behind the key's own earlier jobs, beside other keys' first ones (the procrastinate queue's
        # fair order; the in-process queue picks fairly when it takes a job).
        ahead = unfinished_jobs(self.jobs.db, submitter_key) - 1 if submitter_key else 0
        self.queue.defer_job(job.id, priority=-max(ahead, 0))
        return job

    def _check_quota(self, key_id: str, size: int) -> None:
        """`QuotaExceeded` when the key is at its queue limit or the files would pass its byte limit."""
        limit = self.settings.max_queued_jobs_per_key
        if (n := unfinished_jobs(self.jobs.db, key_id)) >= limit:
            raise QuotaExceeded(
                f"this key has {n} jobs queued or running, the limit (JIMOKU_MAX_QUEUED_JOBS_PER_KEY={limit}); "
                f"submit again when some have finished (about {QUOTA_RETRY_AFTER_SECONDS} s), or cancel one "
                "(POST /v1/jobs/{id}/cancel)", status=429, code="quota_jobs", retry_after=QUOTA_RETRY_AFTER_SECONDS)
        cap = self.settings.max_stored_bytes_per_key
        if (held := stored_bytes(self.jobs.db, key_id)) + size > cap:
            raise QuotaExceeded(
                f"this key's jobs hold {_mb(held)} of files and these add {_mb(size)}, over the limit "
                f"(JIMOKU_MAX_STORED_BYTES_PER_KEY={_mb(cap)}); finished jobs' files are freed "
                "after the retention period (`jimoku db prune`)", status=507, code="quota_bytes")

    def _check(self, question: str, files: Sequence[tuple[Path, str]]) -> str:
        """The question, stripped; `JobRejected` when it or the number of files is out of bounds."""
        question = (question or "").strip()
        limit = self.settings.max_question_chars
        if not question:
            raise JobRejected("the question is empty; ask what you want to know about the files")
        if len(question) > limit:
            raise JobRejected(f"the question is {len(question)} characters; the limit is {limit}")
        if not files:
            raise JobRejected("attach at least one file (a photo, a PDF or a voice memo)")
        if len(files) > self.settings.max_files:
            raise JobRejected(f"{len(files)} files attached; the limit is {self.settings.max_files}")
        return question


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
