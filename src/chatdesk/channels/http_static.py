"""The widget script, the agent console and the demo shop page, served by the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from chatdesk.config import packaged_path

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
async def widget_js() -> FileResponse:
    return FileResponse(
        packaged_path("web_widget") / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/demo")
async def demo() -> FileResponse:
    return FileResponse(WEB_DIR / "demo" / "index.html", media_type="text/html; charset=utf-8")


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/demo")


@router.get("/console")
async def console_redirect() -> RedirectResponse:
    return RedirectResponse("/console/")


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/console", StaticFiles(directory=WEB_DIR / "console", html=True), name="console")
