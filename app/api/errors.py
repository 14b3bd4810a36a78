"""Exception handlers: infrastructure failures become answers a client can act on, and every
error answer carries a stable machine code next to its English reason.

An error response is `{"detail": "<English reason, for people and logs>", "code": "<code>"}`.
The reason may change wording; the code does not. The web pages translate by the code
(catalogue key `errors.<code>`) and fall back to the English reason.

The code comes from, in order: a `code` attribute on the raised HTTPException; the `code` of
the app.errors exception the route turned into it (`raise HTTPException(...) from None` still
records it as `__context__`) when that code is not its class's default; the first of RULES
whose status and reason pattern match; that exception's default code; else the status's
default (STATUS_CODES). Codes:

| code                 | status | when                                                        |
|----------------------|--------|-------------------------------------------------------------|
| bad_request          | 400    | the request cannot become a job (any other 400)             |
| too_many_files       | 400    | more files attached than the limit                          |
| empty_file           | 400    | an uploaded file is empty                                   |
| malformed_form       | 400    | the multipart form cannot be read, or a field is repeated   |
| key_missing          | 401    | no `Authorization: Bearer` key                              |
| key_invalid          | 401    | the key is unknown or revoked                               |
| forbidden            | 403    | the key's role is too low for this endpoint                 |
| not_found            | 404    | any other 404 (e.g. an unknown path)                        |
| job_not_found        | 404    | no job with that id                                         |
| artifact_not_found   | 404    | no stored file with that digest                             |
| tool_not_found       | 404    | no registered tool of that name                             |
| no_claim             | 404    | a claim release for a job nobody holds                      |
| key_not_found        | 404    | no active API key with that id                              |
| conflict             | 409    | any other 409: the action lost a race or came too late      |
| not_awaiting_review  | 409    | the job is not (or no longer) awaiting review               |
| claimed_by_other     | 409    | another reviewer holds the job                              |
| already_decided      | 409    | the job was decided meanwhile                               |
| claim_limit          | 409    | the key holds the most open claims allowed                  |
| same_reviewer        | 409    | this reviewer already approved; another one must (two-person rule) |
| stale_fingerprint    | 409    | the job changed since the reviewer's page read it           |
| last_admin_key       | 409    | revoking the last active admin key                          |
| not_cancellable      | 409    | cancelling a job that has already finished                  |
| payload_too_large    | 413    | the body or a form field is over its limit                  |
| file_too_large       | 413    | an uploaded file is over the size limit                     |
| unsupported_file     | 415    | the tool does not read this kind of file                    |
| invalid_request      | 422    | a request body or parameter failed validation               |
| invalid_decision     | 422    | a malformed review decision                                 |
| fingerprint_required | 422    | a decision without the job's `fingerprint` (required by policy) |
| tool_failed          | 422    | the tool ran and could not read the file                    |
| rate_limited         | 429    | too many requests for this key                              |
| quota_jobs           | 429    | the key has the most jobs queued or running allowed         |
| server_error         | 500    | the server failed (e.g. could not store an upload)          |
| database_unavailable | 503    | PostgreSQL is down or unreachable                           |
| disk_full            | 507    | the server's disk is full                                   |
| quota_bytes          | 507    | the key's jobs hold the most stored bytes allowed           |
"""

from __future__ import annotations

import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import Conflict, JobRejected

log = logging.getLogger(__name__)

STATUS_CODES: dict[int, str] = {
    400: "bad_request", 401: "key_invalid", 403: "forbidden", 404: "not_found", 405: "not_found",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_file", 422: "invalid_request",
    429: "rate_limited", 500: "server_error", 503: "database_unavailable", 507: "disk_full",
}
"""The code of an error answer nothing more specific applies to."""

# (status, pattern on the English reason, code): the raise sites' own wording, so a test
# (tests/web/test_i18n.py) pins each rule to a real answer.
RULES: list[tuple[int, re.Pattern[str], str]] = [
    (r[0], re.compile(r[1]), r[2]) for r in [
        (400, r"^too many files attached|files attached; the limit is", "too_many_files"),
        (400, r"^file .* is empty$", "empty_file"),
        (400, r"^malformed form|^too many form fields|was sent \d+ times", "malformed_form"),
        (401, r"^send an API key", "key_missing"),
        (404, r"^no job ", "job_not_found"),
        (404, r"^no artifact |^not a sha256 digest", "artifact_not_found"),
        (404, r"has no claim to release", "no_claim"),
        (404, r"^no active key ", "key_not_found"),
        (404, r"tool", "tool_not_found"),
        (409, r"not awaiting review", "not_awaiting_review"),
        (409, r"is claimed by ", "claimed_by_other"),
        (409, r"already been decided", "already_decided"),
        (409, r"open review claims", "claim_limit"),
        (409, r"last active admin key", "last_admin_key"),
        (413, r"^file .* MB limit", "file_too_large"),
    ]
]

def error_code(status: int, detail: object, exc: BaseException | None = None) -> str:
    """The stable code for an error answer with `status` and `detail` (see the module's table)."""
    explicit = getattr(exc, "code", None)
    if isinstance(explicit, str):
        return explicit
    cause = (exc.__cause__ or exc.__context__) if exc is not None else None
    cause_code = cause.code if isinstance(cause, (Conflict, JobRejected)) else None
    default = "conflict" if isinstance(cause, Conflict) else "bad_request"
    if cause_code and cause_code != default:
        return cause_code
    if isinstance(detail, str):
        for rule_status, pattern, code in RULES:
            if rule_status == status and pattern.search(detail):
                return code
    if status == 422 and isinstance(cause, JobRejected):
        return "invalid_decision"
    return cause_code or STATUS_CODES.get(status, "server_error" if status >= 500 else "bad_request")


def _with_code(response: JSONResponse, code: str) -> JSONResponse:
    """`response` (FastAPI's own error answer, headers kept) with `code` added to its body."""
    body = json.loads(bytes(response.body))
    body["code"] = code
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return JSONResponse(status_code=response.status_code, content=body, headers=headers)


async def coded_http_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's answer for an HTTPException, with its stable `code`."""
    assert isinstance(exc, StarletteHTTPException)
    response = await http_exception_handler(request, exc)
    if not isinstance(response, JSONResponse):  # 204/304 carry no body
        return response  # type: ignore[return-value]
    return _with_code(response, error_code(exc.status_code, exc.detail, exc))


async def coded_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for a body or parameter that failed validation, with code `invalid_request`."""
    assert isinstance(exc, RequestValidationError)
    return _with_code(await request_validation_exception_handler(request, exc), "invalid_request")


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI handler for psycopg's OperationalError (PostgreSQL down or unreachable, the pool
    exhausted): 503 with a reason instead of a bare 500. The request was not carried out."""
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(status_code=503, headers={"Retry-After": "5"}, content={
        "detail": "the database is unreachable; this request was not carried out, try again shortly",
        "code": "database_unavailable"})


def install_error_codes(app: FastAPI) -> None:
    """Give every HTTPException and validation error answer of `app` its stable `code`."""
    app.add_exception_handler(StarletteHTTPException, coded_http_error)
    app.add_exception_handler(RequestValidationError, coded_validation_error)
