"""The short path from a stroke to its picture: POST the drawing's image to /studio/translate/NAME, get a JPEG.

Through gradio's event machinery (request and state models, pre- and post-processing, the page's own event
bookkeeping) a stroke cost about 35 ms of CPU on top of the 15 ms handler on a 2-core machine, and a
classroom saturated the server at ~20 requests/s. A stroke needs none of it: this is a plain FastAPI route
beside gradio's own, which the canvas's script (demo/sketchpad.js) calls directly and API callers can too:

    curl --data-binary @drawing.png http://127.0.0.1:7860/studio/translate/facades > picture.jpg

A drawing that cannot be used gets 422 and {"error": message}, the same message the page shows for it. When the
studio is launched with gradio's `auth`, the route asks for the same sign-in as the page (401 otherwise).
"""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.handlers import ModelHandlers, rejection_message
from demo.sketchpad import MAX_DRAWING_BYTES
from pix2pix.images import ImageError

ROUTE = "/studio/translate/{name}"


def translate_url(name: str) -> str:
    """The stroke route of model `name`, relative to the page (so it also works under a proxy's path prefix)."""
    return ROUTE.removeprefix("/").format(name=quote(name, safe=""))


def stroke_routes(models: dict[str, ModelHandlers]) -> list[APIRoute]:
    """The stroke route for the `models` served, by name."""

    async def translate(name: str, request: Request) -> Response:
        if not await signed_in(request):
            return error(401, "Sign in to the studio first: this route asks for the same login as its page.")
        handlers = models.get(name)
        if handlers is None:
            return error(404, f"No model named {name!r} here; this studio serves: {', '.join(models) or 'none'}.")
        drawing = await read_limited(request)
        if drawing is None:
            return error(413, f"The drawing is too large to send; the limit is {MAX_DRAWING_BYTES:,} bytes.")
        try:  # the model's work goes to a worker thread: the event loop keeps serving everyone else
            picture = await run_in_threadpool(handlers.stroke_picture, drawing)
        except ImageError as problem:
            return error(422, rejection_message(problem))
        return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    return [APIRoute(ROUTE, translate, methods=["POST"], name="translate a drawing", include_in_schema=False)]


async def signed_in(request: Request) -> bool:
    """Gradio's own rule for its routes (gradio.routes, `login_check`): without auth everyone is in; with it, the user
    that the app's auth_dependency names, else the one whose login cookie holds a token the app issued."""
    app = request.app
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    if app.auth_dependency is not None:
        user = app.auth_dependency(request)
        return (await user if inspect.isawaitable(user) else user) is not None
    token = request.cookies.get(f"access-token-{app.cookie_id}") or request.cookies.get(f"access-token-unsecure-{app.cookie_id}")
    return app.tokens.get(token) is not None


async def read_limited(request: Request) -> bytes | None:
    """The request's body, or None once it passes MAX_DRAWING_BYTES (read no further than that)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DRAWING_BYTES:
            return None
    return bytes(body)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
