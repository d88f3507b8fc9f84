"""RFC 9457 problem details, localised."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.contracts.errors import ErrorBody
from services.gateway.i18n import STATUS_OF_KIND, detail, field_message, language, message

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raised by routes: answered as problem+json."""

    def __init__(self, error: ErrorBody):
        super().__init__(error.code)
        self.error = error


def problem_response(request: Request, status: int, code: str, extra: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
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
                        headers={"Content-Language": lang, "Vary": "Accept-Language", **(headers or {})})


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
        said = detail(err.code, language(request.headers.get("accept-language")), params)
        if said:
            extra["detail"] = said
    headers = {}
    if err.kind == "rate_limited":
        retry_after = params.get("retry_after_s")
        headers["Retry-After"] = str(retry_after) if isinstance(retry_after, int) and retry_after > 0 else "60"
    return problem_response(request, STATUS_OF_KIND.get(err.kind, 400), err.code, extra, headers)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        errors.append({"field": ".".join(loc), "message": field_message(e.get("type", "value_error"), lang)})
    code = "malformed_request" if any(e.get("type") == "json_invalid" for e in exc.errors()) else "invalid_fields"
    return problem_response(request, 422, code, {"errors": errors})


async def on_contract_error(request: Request, exc: ValidationError) -> JSONResponse:
    """A route builds its command or query from what the client sent (query parameters, path, body):
    what the contract refuses there is the client's input, refused like any other (422), not a fault."""
    lang = language(request.headers.get("accept-language"))
    errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": field_message(e.get("type", ""), lang)}
              for e in exc.errors(include_url=False, include_context=False, include_input=False)]
    return problem_response(request, 422, "invalid_fields", {"errors": errors})


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "login_required",
            413: "payload_too_large"}.get(exc.status_code, "malformed_request")
    return problem_response(request, exc.status_code, code)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, 500, "internal_error")


#: what every error body holds (RFC 9457 plus the machine-readable ``code``)
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z_]+$"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "params": {"type": "object"},
    },
}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    if headers:
        response["headers"] = headers
    return response


PROBLEM_RESPONSES = {
    400: _problem("Malformed request: the body could not be read"),
    401: _problem("Not signed in, or the token is invalid"),
    403: _problem("Forbidden for this role"),
    404: _problem("Not found"),
    409: _problem("Conflicts with the current state"),
    422: _problem("Invalid input"),
    413: _problem("The body, or the event it would make, is too large"),
    429: _problem("Too many attempts (sign-in); wait Retry-After seconds",
                  {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}),
    503: _problem("A service is unavailable, or the gateway is overloaded (`overloaded`: try again after "
                  "Retry-After seconds); nothing was carried out",
                  {"Retry-After": {"description": "seconds to wait (when overloaded)",
                                   "schema": {"type": "integer", "minimum": 1}}}),
    504: _problem("The outcome is unknown: repeat with the same Idempotency-Key to learn it"),
}
