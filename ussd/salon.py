"""``POST /forms/{slug}``: a salon's public lead form.

Accepts a form-encoded or JSON body with the standard fields (name, phone,
email, service, preferred_date, message) and the form's own. Answers JSON:
201 with the lead's temperature when accepted, 422 with ``errors`` keyed by
field when not, 429 with ``Retry-After`` when the address or phone has sent
too many, 404 for a form that does not exist or is closed, 400 for a body
that is neither (or holds a NUL byte or a lone surrogate), 413 past 32 kB.
The address is the connection's, or the one a proxy in ``trusted_proxies``
forwarded. The checks, limits and scoring are all in ``core.salon.forms``.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import NotFound
from core.salon.forms import FormInvalid, RateLimited, Submission, submit_form
from ussd.gateway import KB, Unreadable, database, read_form, read_json, route

log = logging.getLogger("ofisi.gateway.forms")


async def _fields(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return await read_form(request)
    data = read_json(await request.body())
    if not isinstance(data, dict):
        raise Unreadable("the JSON is not an object")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


@route("/forms/{slug}", max_body=32 * KB)
async def lead_form(request: Request) -> Response:
    try:
        data = await _fields(request)
    except Unreadable as exc:
        return JSONResponse({"ok": False, "error": f"Send the form as form fields or as a JSON object ({exc})."},
                            status_code=400)
    slug = request.path_params["slug"]
    # The connection's address, or the one a trusted proxy forwarded (`trusted_proxies`, see ussd.server).
    ip = request.client.host if request.client else "unknown"

    def submit() -> Submission:
        with database(request).session() as session:
            return submit_form(session, slug, data, ip=ip)

    try:
        result = await run_in_threadpool(submit)
    except FormInvalid as exc:
        return JSONResponse({"ok": False, "errors": exc.errors}, status_code=422)
    except RateLimited as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})
    except NotFound as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=404)
    except Exception:
        log.exception("form %s: submission could not be recorded", slug)
        return JSONResponse({"ok": False, "error": "Something went wrong; please try again."}, status_code=500)
    return JSONResponse({"ok": True, "lead_id": result.lead_id, "new": result.created,
                         "temperature": result.temperature, "message": "Thank you, we will be in touch."},
                        status_code=201)
