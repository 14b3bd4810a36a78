"""Request limits: body size enforced while the body streams in, form fields bounded while they
are parsed, and a rate per key."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi._compat import field_annotation_is_sequence
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """Refuse a request body over `max_bytes` as it arrives (413), before it is buffered or
    spooled to disk: at once when Content-Length says so, else as soon as the count of
    received bytes passes it. The application then sees the client as gone, stops
    reading, and whatever it would have answered is dropped."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = f"{self.max_bytes / 1_000_000:.0f} MB"
        # Answered before routing, so outside the handlers that add codes (app/api/errors.py): its own.
        response = JSONResponse({"detail": f"the request is over the {limit} limit; send smaller or fewer files",
                                 "code": "payload_too_large"}, status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class BoundedForm(APIRoute):
    """A route whose form is parsed with bounds before FastAPI reads it: at most `max_files` files,
    `max_form_fields` text fields of `max_field_bytes` each (the parser stops at the first one
    over, so a field bomb is never held in memory), and each single-valued field given once.

    FastAPI parses the form with Starlette's defaults (1000 fields of 1 MB); parsing it here first
    leaves the bounded result in `request._form`, which FastAPI's own `request.form()` returns."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        single = sorted(f.alias for f in self.dependant.body_params
                        if not field_annotation_is_sequence(f.field_info.annotation))

        async def bounded(request: Request) -> Response:
            if request.headers.get("content-type", "").lower().startswith(_FORM_TYPES):
                settings = get_settings()
                try:
                    form = await request.form(max_files=settings.max_files, max_fields=settings.max_form_fields,
                                              max_part_size=settings.max_field_bytes)
                except StarletteHTTPException as exc:  # the parser's refusal (FastAPI's is a subclass)
                    raise _form_error(str(exc.detail)) from None
                repeated = [name for name in single if len(form.getlist(name)) > 1]
                if repeated:
                    await form.close()
                    raise HTTPException(status.HTTP_400_BAD_REQUEST, "; ".join(
                        f"the field {name!r} was sent {len(form.getlist(name))} times; send it once"
                        for name in repeated))
            return await handler(request)

        return bounded


def _form_error(message: str) -> HTTPException:
    """The multipart parser's refusal, said in this API's words."""
    settings = get_settings()
    if message.startswith("Too many files"):
        return HTTPException(status.HTTP_400_BAD_REQUEST, f"too many files attached; the limit is {settings.max_files}")
    if message.startswith("Too many fields"):
        return HTTPException(status.HTTP_400_BAD_REQUEST,
                             f"too many form fields; the limit is {settings.max_form_fields}")
    if re.match(r"(Part|Field) exceeded maximum size", message):
        return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                             f"a form field is over the {settings.max_field_bytes // 1024} kB limit "
                             f"(a question may have up to {settings.max_question_chars} characters)")
    return HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed form: {message}")


class RateLimiter:
    """A token bucket per API key: `per_minute` requests, bursts up to that many."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
