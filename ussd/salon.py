"""``/forms/{slug}``: a salon's public lead form.

``GET`` is the form as a page (:mod:`ussd.form_page`), for a browser without
JavaScript; 404 with a page a person can read when the form is closed or unknown.

Accepts a form-encoded or JSON body with the standard fields (name, phone,
email, service, preferred_date, message) and the form's own. Answers JSON:
201 with the lead's temperature when accepted, 422 with ``errors`` keyed by
field when not, 429 with ``Retry-After`` when the address or phone has sent
too many, 404 for a form that does not exist or is closed, 400 for a body
that is neither (or holds a NUL byte or a lone surrogate), 413 past 32 kB.
A submission that fills the hidden ``your-website`` field (the honeypot) is
answered 201 like any other and kept nowhere.
The address is the connection's, or the one a proxy in ``trusted_proxies``
forwarded. The checks, limits and scoring are all in ``core.salon.forms``.
A browser that asks for HTML (the page's own form posting) gets the same
answers as pages: thanks, or the form again with each field's problem.

CORS: the salon's own websites (``form_origins`` in its booking settings,
``ofisi salon settings set --form-origins``) may post from a script. A
preflight (``OPTIONS``) from one of them is answered 204 with
``Access-Control-Allow-Origin`` naming it; from any other site 403 without
CORS headers, so the browser sends nothing. A ``POST`` carries the header only
for a listed origin (never ``*``); every answer says ``Vary: Origin``. A plain
form post from elsewhere is still taken (browsers send those without asking;
the limits and checks hold), but no script there can read the answer.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from core.errors import NotFound
from core.salon.forms import FormInvalid, PublicForm, RateLimited, Submission, Unwanted, public_form, submit_form
from ussd.form_page import form_page, message_page, security_headers
from ussd.gateway import KB, Unreadable, database, read_form, read_json, route

# What a script on a salon's site may send besides the CORS-safelisted headers.
CORS_HEADERS = {"content-type", "accept", "accept-language", "content-language"}
CLOSED = ("This form is not open", "There is no open form at this address. The salon may have closed it; "
          "contact the salon directly.")

log = logging.getLogger("ofisi.gateway.forms")


async def _fields(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return await read_form(request)
    data = read_json(await request.body())
    if not isinstance(data, dict):
        raise Unreadable("the JSON is not an object")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _wants_page(request: Request) -> bool:
    """A browser navigating (the page's own form) asks for HTML; a script's fetch asks for anything."""
    return "text/html" in request.headers.get("accept", "")


def _cors(request: Request, form: PublicForm | None) -> dict[str, str]:
    origin = request.headers.get("origin", "")
    if form is not None and origin and origin.rstrip("/").lower() in form.origins:
        # A script there may read how long to wait after a 429, too.
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After",
                "Vary": "Origin"}
    return {"Vary": "Origin"}


async def _public_form(request: Request) -> PublicForm | None:
    slug = request.path_params["slug"]

    def look() -> PublicForm:
        with database(request).session() as session:
            return public_form(session, slug)

    try:
        return await run_in_threadpool(look)
    except NotFound:
        return None


def _closed_page() -> Response:
    return HTMLResponse(message_page(*CLOSED), status_code=404, headers=security_headers(None))


@route("/forms/{slug}", ["GET"], max_body=KB)
async def lead_form_page(request: Request) -> Response:
    form = await _public_form(request)
    if form is None:
        return _closed_page()
    return HTMLResponse(form_page(form), headers=security_headers(form))


@route("/forms/{slug}", ["OPTIONS"], max_body=KB)
async def lead_form_preflight(request: Request) -> Response:
    form = await _public_form(request)
    cors = _cors(request, form)
    wanted = {h.strip().lower() for h in request.headers.get("access-control-request-headers", "").split(",")
              if h.strip()}
    if ("Access-Control-Allow-Origin" not in cors or wanted - CORS_HEADERS
            or request.headers.get("access-control-request-method", "POST").upper() != "POST"):
        return PlainTextResponse("This website may not post to this form from a script.", status_code=403,
                                 headers={"Vary": "Origin"})
    return Response(status_code=204, headers={**cors, "Access-Control-Allow-Methods": "POST",
                                              "Access-Control-Allow-Headers": "Content-Type",
                                              "Access-Control-Max-Age": "600"})


@route("/forms/{slug}", max_body=32 * KB)
async def lead_form(request: Request) -> Response:
    page = _wants_page(request)
    form = await _public_form(request) if page or request.headers.get("origin") else None
    cors = _cors(request, form)
    try:
        data = await _fields(request)
    except Unreadable as exc:
        return JSONResponse({"ok": False, "error": f"Send the form as form fields or as a JSON object ({exc})."},
                            status_code=400, headers=cors)
    slug = request.path_params["slug"]
    # The connection's address, or the one a trusted proxy forwarded (`trusted_proxies`, see ussd.server).
    ip = request.client.host if request.client else "unknown"

    def submit() -> Submission:
        with database(request).session() as session:
            return submit_form(session, slug, data, ip=ip)

    def answer(status: int, body: dict, title: str = "", headers: dict[str, str] | None = None) -> Response:
        headers = {**cors, **(headers or {})}
        if not page:
            return JSONResponse(body, status_code=status, headers=headers)
        if status == 404 or form is None:
            return _closed_page()
        headers.update(security_headers(form))
        if "errors" in body:
            return HTMLResponse(form_page(form, data, body["errors"]), status_code=status, headers=headers)
        return HTMLResponse(message_page(title, body.get("message") or body["error"]), status_code=status,
                            headers=headers)

    try:
        result = await run_in_threadpool(submit)
    except FormInvalid as exc:
        return answer(422, {"ok": False, "errors": exc.errors})
    except RateLimited as exc:
        return answer(429, {"ok": False, "error": str(exc)}, "Too many tries",
                      {"Retry-After": str(exc.retry_after)})
    except NotFound as exc:
        return answer(404, {"ok": False, "error": str(exc)})
    except Unwanted as exc:  # the hidden field was filled: thanks, as to anyone, and nothing kept
        return answer(201, {"ok": True, "message": str(exc)}, "Thank you")
    except Exception:
        log.exception("form %s: submission could not be recorded", slug)
        return answer(500, {"ok": False, "error": "Something went wrong; please try again."}, "Not sent")
    return answer(201, {"ok": True, "lead_id": result.lead_id, "new": result.created,
                        "temperature": result.temperature, "message": "Thank you, we will be in touch."},
                  "Thank you")
