"""Jobs: submit a question with files, follow it, read the result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.api.deps import EngineDep, ServiceDep, SettingsDep, Submitter
from app.api.models import JobCreated, JobPublic, JobsPublic, JobStatus, JobSummary
from app.auth import Principal, Role
from app.errors import Conflict, JobRejected
from app.intake import QuotaExceeded
from app.limits import BoundedForm
from app.service import Service
from app.store.event_log import TERMINAL
from app.store.jobs import JobRow, cancel
from app.uploads import disk_error, safe_name, save_upload
from graphs.contract import FINAL_STATUSES, Event

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=BoundedForm)
_POLL = 0.5
_RECHECK_KEY = 2.0
"""Seconds between checks, inside an open stream, that its key is still active and still may see
the job (a revoked key's stream ends within this, plus a poll)."""


@router.post("", status_code=status.HTTP_202_ACCEPTED,
             responses={400: {"description": "Bad question or files; the reason says which"},
                        413: {"description": "A file is over the size limit"},
                        429: {"description": "This key has its limit of jobs queued or running (Retry-After)"},
                        507: {"description": "This key's stored files would pass its limit, or the disk is full"}})
async def submit_job(
    service: ServiceDep,
    settings: SettingsDep,
    principal: Submitter,
    question: Annotated[str, Form(description="What you want to know about the files.",
                                  examples=["What is the serial number on this plate?"])],
    files: Annotated[list[UploadFile], File(description="Photos, scanned drawings (PDF), voice memos.")],
    auto_approve: Annotated[bool, Form(description="Skip review when nothing is flagged.")] = False,
) -> JobCreated:
    """Queue a question about one or more files; answers 202 with the job id."""
    if len(files) > settings.max_files:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{len(files)} files attached; the limit is {settings.max_files}")
    saved: list[tuple[Path, str]] = []
    try:
        for upload in files:
            path = await save_upload(upload, settings.data_dir / "tmp", settings.max_upload_bytes)
            saved.append((path, safe_name(upload.filename)))
        try:
            job = await run_in_threadpool(service.engine.submit, question, saved,
                                          auto_approve=auto_approve, submitted_by=principal.name,
                                          submitter_key=principal.key_id)
        except QuotaExceeded as exc:  # the key is at a limit: 429 (with when to retry) or 507
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            raise HTTPException(exc.status, str(exc), headers=headers) from None
        except JobRejected as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        except OSError as exc:  # e.g. the artifact disk is full: nothing was recorded
            raise disk_error(exc) from None
    finally:
        for path, _ in saved:
            path.unlink(missing_ok=True)
    return JobCreated(id=job.id, status="queued")


@router.get("")
def list_jobs(
    engine: EngineDep,
    principal: Submitter,
    status_: Annotated[JobStatus | None, Query(alias="status", description="Only jobs in this state.")] = None,
    since: Annotated[datetime | None, Query(description="Only jobs created at or after this time (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> JobsPublic:
    """List jobs, oldest first, with filters and pagination: a submitter key lists only the jobs it
    submitted; reviewer and admin keys list all."""
    since_text = since.isoformat(timespec="milliseconds") if since else None
    mine = None if principal.sees_all_jobs() else principal.key_id
    rows = engine.jobs.list(status=status_, since=since_text, limit=limit, offset=offset, submitter_key=mine)
    return JobsPublic(
        data=[JobSummary(id=j.id, status=j.status, question=j.question, created_at=j.created_at,
                         updated_at=j.updated_at, error=j.error) for j in rows],
        count=engine.jobs.count(status=status_, since=since_text, submitter_key=mine),
    )


@router.get("/{job_id}", responses={404: {"description": "No such job"}})
async def get_job(job_id: str, engine: EngineDep, principal: Submitter) -> JobPublic:
    """Status, files, plan, steps, draft, flags, confidence, final answer and review of a job.
    A submitter key reads only its own jobs (another's answers 404, as if absent)."""

    def load() -> dict[str, Any]:
        if not principal.may_see(engine.jobs.get(job_id).submitter_key):
            raise KeyError(job_id)
        return engine.document(job_id)

    try:
        return JobPublic.model_validate(await run_in_threadpool(load))
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None


async def visible_job(job_id: str, service: ServiceDep, principal: Submitter) -> JobRow:
    """The job, if the caller may see it; else 404, the same as for a job that does not exist. A
    dependency, so that a stream answers 404 before it starts (a generator's body runs only then)."""
    try:
        job = await run_in_threadpool(service.engine.jobs.get, job_id)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None
    if not principal.may_see(job.submitter_key):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    return job


@router.get("/{job_id}/events", response_class=EventSourceResponse, responses={404: {"description": "No such job"}})
async def job_events(job_id: str, service: ServiceDep, principal: Submitter,
                     job: Annotated[JobRow, Depends(visible_job)]) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: queued, running, planned, step_started, step_finished, tool_ran (a step run by
    a worker of another resource class), drafted,
    awaiting_review, finalized, failed, cancelled. The stream ends after finalized, failed or cancelled, and within a few
    seconds of its key being revoked or losing the right to see the job (a last event `revoked`).
    A submitter key streams only its own jobs (another's answers 404, as if absent)."""
    queue = service.events.subscribe(job_id)
    try:
        seen, quiet, checked = 0, 0.0, time.monotonic()
        past = await run_in_threadpool(service.engine.events.since, job_id)
        if not past:  # a job from before the event log: say where it stands
            yield ServerSentEvent(event="status", data={"status": job.status, "error": job.error})
            if job.status in FINAL_STATUSES:
                return
        while True:
            for item in past:
                seen = item["seq"]
                yield ServerSentEvent(event=item["event"], data=item["data"], id=str(item["seq"]))
                if item["event"] in TERMINAL:
                    return
            # Woken at once by this process's workers; events written by workers on other
            # machines are found by reading the log again every `_POLL` seconds.
            try:
                await asyncio.wait_for(queue.get(), timeout=_POLL)
                quiet = 0.0
            except TimeoutError:
                quiet += _POLL
                if quiet >= 15:
                    quiet = 0.0
                    yield ServerSentEvent(comment="keep-alive")
            if time.monotonic() - checked >= _RECHECK_KEY:
                checked = time.monotonic()
                if not await run_in_threadpool(_still_allowed, service, principal, job.submitter_key):
                    yield ServerSentEvent(event="revoked", data={"detail": "this API key was revoked or may no "
                                                                           "longer see this job"})
                    return
            past = await run_in_threadpool(service.engine.events.since, job_id, seen)
    finally:
        service.events.unsubscribe(job_id, queue)


def _still_allowed(service: Service, principal: Principal, submitter_key: str | None) -> bool:
    """The stream's key is still active, with a role that may still see the job (one key-table read)."""
    now = service.keys.active(principal.key_id)
    return now is not None and now.role >= Role.submitter and now.may_see(submitter_key)


@router.post("/{job_id}/cancel", responses={403: {"description": "Not this key's job (and not an admin)"},
                                             404: {"description": "No such job"},
                                             409: {"description": "Not cancellable now; the reason says why"}})
async def cancel_job(job_id: str, engine: EngineDep, principal: Submitter) -> JobPublic:
    """Cancel a job that has not started: its submitter's key (any role) cancels its own queued
    jobs, an admin any queued job and any job awaiting review with no decision yet. A running job
    is not stopped midway (409: wait for it; a reviewer can reject it); the job keeps its record,
    with status `cancelled` and a `cancelled` event naming who."""

    def act() -> dict[str, Any]:
        job = engine.jobs.get(job_id)
        if not principal.may_see(job.submitter_key):
            raise KeyError(job_id)
        admin = principal.role >= Role.admin
        if not admin and job.submitter_key != principal.key_id:
            raise PermissionError(f"job {job_id} was submitted with another key; only it or an admin can cancel it")
        if not cancel(engine.db, job_id, admin=admin):
            raise Conflict(_not_cancellable(engine.jobs.get(job_id), admin), code="not_cancellable")
        engine.emit(job_id, Event.CANCELLED, {"status": "cancelled", "by": principal.name, "key": principal.key_id})
        return engine.document(job_id)

    try:
        return JobPublic.model_validate(await run_in_threadpool(act))
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


def _not_cancellable(job: JobRow, admin: bool) -> str:
    """Why a cancel was refused, from the job's state now."""
    if job.status == "running":
        return (f"job {job.id} is running; a running job is not stopped midway (its tools hold files and "
                "slots): wait for it to finish or reach review, where a reviewer can reject it")
    if job.status == "awaiting_review":
        return (f"job {job.id} is awaiting review: only an admin can cancel it (a reviewer can reject it)"
                if not admin else f"job {job.id} has a review decision recorded; it is being applied")
    return f"job {job.id} is {job.status} already; only a queued job can be cancelled"
