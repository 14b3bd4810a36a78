"""The review queue: claim a job, then approve, edit or reject its draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep, Reviewer, SettingsDep
from app.api.models import ClaimOut, JobPublic, ReviewQueue, ReviewQueueItem
from app.auth import Role
from app.errors import Conflict, JobRejected
from graphs.contract import Decision

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])


@router.get("")
async def review_queue(engine: EngineDep, _: Reviewer, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ReviewQueue:
    """Jobs awaiting review, oldest first, with their flags and confidence."""

    def build() -> ReviewQueue:
        rows = engine.jobs.list(status="awaiting_review", limit=limit)
        items = [ReviewQueueItem.model_validate(engine.document(job.id)) for job in rows]
        return ReviewQueue(data=items, count=engine.jobs.count(status="awaiting_review"))

    return await run_in_threadpool(build)


@router.post("/{job_id}/claim", responses={404: {"description": "No such job"},
                                           409: {"description": "Another reviewer holds it, or it is decided"}})
def claim(job_id: str, engine: EngineDep, settings: SettingsDep, reviewer: Reviewer) -> ClaimOut:
    """Hold a job so that no other reviewer key works on it (expires after a while; a key holds at
    most `JIMOKU_MAX_OPEN_CLAIMS` at once). The claim belongs to the key, shown by its name."""
    try:
        engine.reviews.check_claim(job_id, reviewer.key_id)
        job = engine.jobs.claim_review(job_id, reviewer.name, settings.review_claim_minutes, key_id=reviewer.key_id,
                                       max_open=settings.max_open_claims)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return ClaimOut(id=job.id, claimed_by=job.claimed_by or reviewer.name, claimed_until=job.claimed_until or "")


@router.delete("/{job_id}/claim", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "No such job, or no claim on it"},
                          409: {"description": "Another reviewer holds it (only an admin may release that)"}})
def release_claim(job_id: str, engine: EngineDep, reviewer: Reviewer) -> None:
    """Release the claim on a job: its holder, or an admin for any claim."""
    try:
        holder = engine.jobs.claim_holder(job_id)
        if holder is not None and holder != reviewer.key_id and reviewer.role < Role.admin:
            job = engine.jobs.get(job_id)
            raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is claimed by {job.claimed_by} until "
                                                          f"{job.claimed_until}; only they or an admin may release it")
        if not engine.jobs.release_claim(job_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} has no claim to release")
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None


@router.post("/{job_id}", responses={404: {"description": "No such job"},
                                     409: {"description": "Already decided, claimed by another reviewer, already "
                                                          "approved by this reviewer, or the job changed since it "
                                                          "was opened (its fingerprint): reload it"},
                                     422: {"description": "Invalid decision, or no fingerprint where one is required"}})
async def decide(job_id: str, body: Decision, engine: EngineDep, reviewer: Reviewer) -> JobPublic:
    """Approve the draft, replace it (edit), or reject it, sending the job's `fingerprint`; the job becomes
    final, or, under a two-person rule, counts this approval until enough distinct reviewers approved."""
    decision = body.model_copy(update={"reviewer": reviewer.name, "at": None})  # the key says who, not the body
    try:
        await run_in_threadpool(lambda: engine.review(job_id, decision, reviewer_key=reviewer.key_id, bound=True))
        return JobPublic.model_validate(await run_in_threadpool(engine.document, job_id))
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from None
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except JobRejected as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
