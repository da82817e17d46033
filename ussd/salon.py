"""``POST /forms/{slug}``: a salon's public lead form.

Accepts a form-encoded or JSON body with the standard fields (name, phone,
email, service, preferred_date, message) and the form's own. Answers JSON:
201 with the lead's temperature when accepted, 422 with ``errors`` keyed by
field when not, 429 with ``Retry-After`` when the address or phone has sent
too many, 404 for a form that does not exist or is closed. The checks, limits
and scoring are all in ``core.salon.forms``.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import NotFound
from core.salon.forms import FormInvalid, RateLimited, Submission, submit_form
from ussd.gateway import database, route

log = logging.getLogger("ofisi.gateway.forms")

MAX_BODY = 32 * 1024


async def _fields(request: Request) -> dict[str, str] | None:
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        body = await request.body()
        if len(body) > MAX_BODY:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


@route("/forms/{slug}")
async def lead_form(request: Request) -> Response:
    data = await _fields(request)
    if data is None:
        return JSONResponse({"ok": False, "error": "Send the form as form fields or as a JSON object."},
                            status_code=400)
    slug = request.path_params["slug"]
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
