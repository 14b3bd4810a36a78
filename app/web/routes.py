"""The reviewer's web pages (review queue, automation dashboard): static HTML, scripts and styles.

The pages talk to the JSON API with the reviewer's key like any other client, so this
module only serves files. The Content-Security-Policy is a second line of defence: the
pages render every server string as text, and even if they did not, no inline script,
event handler or foreign origin could run.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

# blob: for the uploaded photos, recordings and PDFs the page fetches with its key.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["web"])


def _page(name: str) -> FileResponse:
    """One of the site's HTML pages, with the headers every page gets."""
    return FileResponse(
        STATIC_DIR / name,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # The pages are tiny; always revalidate so a deploy reaches every open browser.
            "Cache-Control": "no-cache",
        },
    )


@router.get("/review", include_in_schema=False)
def review_page() -> FileResponse:
    """The reviewer's page: queue, evidence, draft and decision."""
    return _page("review.html")


@router.get("/dashboard", include_in_schema=False)
def dashboard_page() -> FileResponse:
    """The automation dashboard: how much is automated, how well, and the policy in force."""
    return _page("dashboard.html")


def mount_static(app: FastAPI) -> None:
    """Serve the pages' scripts and stylesheets under `/static`."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
