"""Intake: a question and files become a stored, queued job, or are refused with a reason.

Everything is checked before anything is stored (question, number of files, each file's
kind and contents), so a refused request leaves nothing behind; an accepted one is in
the job table before it is handed to the queue, so it cannot be lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from app.errors import JobRejected
from app.jobqueue import JobQueue
from app.settings import Settings
from app.store.artifacts import ArtifactStore
from app.store.jobs import JobRow, JobStore
from app.uploads import as_uploaded
from graphs.context import EventSink
from graphs.contract import Event
from graphs.state import Attachment
from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.files import sniff_kind
from tools.validate import validate_file

log = logging.getLogger(__name__)


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
        attachments: list[Attachment] = []
        for i, (path, name) in enumerate(files, start=1):
            try:
                kind = sniff_kind(path)
                validate_file(path, kind, self.tool_ctx)
            except ToolInputError as exc:
                raise JobRejected(f"file {i} ({name}): {as_uploaded(str(exc), path, name)}") from None
            sha, _ = self.artifacts.put(path)
            attachments.append(Attachment(id=f"f{i}", name=name, kind=kind.value, sha256=sha))
        job = self.jobs.create(question, attachments, auto_approve, submitted_by, submitter_key)
        self.emit(job.id, Event.QUEUED, {"status": "queued"})
        self.queue.defer_job(job.id)
        return job

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
