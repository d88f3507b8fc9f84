"""RFC 9457 problem details, localised."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.contracts.errors import ErrorBody
from services.gateway.i18n import STATUS_OF_KIND, field_message, language, message

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raised by routes: answered as problem+json."""

    def __init__(self, error: ErrorBody):
        super().__init__(error.code)
        self.error = error


def problem_response(request: Request, status: int, code: str, extra: dict[str, Any] | None = None) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    body = {
        "type": f"https://hr-mnenie.ru/problems/{code}",
        "title": message(code, lang),
        "status": status,
        "code": code,
        "instance": request.url.path,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers={"Content-Language": lang, "Vary": "Accept-Language"})


def _localise_fields(fields: list[dict], lang: str) -> list[dict]:
    return [{"field": f["field"], "message": field_message(f["type"], lang)} for f in fields]


async def on_problem(request: Request, exc: Problem) -> JSONResponse:
    err = exc.error
    extra: dict[str, Any] = {}
    params = dict(err.params)
    if "fields" in params:
        extra["errors"] = _localise_fields(params.pop("fields"), language(request.headers.get("accept-language")))
    if params:
        extra["params"] = params
    return problem_response(request, STATUS_OF_KIND.get(err.kind, 400), err.code, extra)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        errors.append({"field": ".".join(loc), "message": field_message(e.get("type", "value_error"), lang)})
    code = "malformed_request" if any(e.get("type") == "json_invalid" for e in exc.errors()) else "invalid_fields"
    return problem_response(request, 422, code, {"errors": errors})


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "login_required"}.get(exc.status_code, "malformed_request")
    return problem_response(request, exc.status_code, code)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, 500, "internal_error")


PROBLEM_RESPONSES = {
    401: {"description": "Not signed in", "content": {PROBLEM_JSON: {}}},
    403: {"description": "Forbidden for this role", "content": {PROBLEM_JSON: {}}},
    422: {"description": "Invalid input", "content": {PROBLEM_JSON: {}}},
    503: {"description": "A service is unavailable", "content": {PROBLEM_JSON: {}}},
}
