"""The reviewer's web pages (review queue, automation dashboard): static HTML, scripts and styles.

The pages talk to the JSON API with the reviewer's key like any other client, so this
module only serves files. The pages are in English or Japanese (static/i18n.js picks the
language, static/locales/*.json hold the strings); the HTML is served with `<html lang>` set
from the request's Accept-Language so the first paint already has the right language tag. The Content-Security-Policy is a second line of defence: the
pages render every server string as text, and even if they did not, no inline script,
event handler or foreign origin could run.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
LANGUAGES = ("en", "ja")
"""The interface languages, one catalogue each in static/locales/; the first is the fallback."""

# blob: for the uploaded photos, recordings and PDFs the page fetches with its key.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["web"])


def preferred_language(accept_language: str | None) -> str:
    """The interface language for an Accept-Language header: the highest-weighted tag whose
    primary subtag is one of LANGUAGES ("ja-JP;q=0.9" → "ja"), else English."""
    best, best_q = LANGUAGES[0], 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        match = re.search(r"q\s*=\s*([^\s;]*)", params)
        try:
            q = float(match.group(1)) if match else 1.0
        except ValueError:
            continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > best_q:
            best, best_q = base, q
    return best


def _page(name: str, request: Request) -> HTMLResponse:
    """One of the site's HTML pages in the request's language tag, with the headers every page gets."""
    html = (STATIC_DIR / name).read_text(encoding="utf-8")
    html = html.replace('<html lang="en">', f'<html lang="{preferred_language(request.headers.get("accept-language"))}">', 1)
    return HTMLResponse(
        html,
        headers={
            "Vary": "Accept-Language",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # The pages are tiny; always revalidate so a deploy reaches every open browser.
            "Cache-Control": "no-cache",
        },
    )


@router.get("/review", include_in_schema=False)
def review_page(request: Request) -> HTMLResponse:
    """The reviewer's page: queue, evidence, draft and decision."""
    return _page("review.html", request)


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request) -> HTMLResponse:
    """The automation dashboard: how much is automated, how well, and the policy in force."""
    return _page("dashboard.html", request)


def mount_static(app: FastAPI) -> None:
    """Serve the pages' scripts and stylesheets under `/static`."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
