"""The one place where errors become HTTP answers: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from stepstone.errors import StepstoneError

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "invalid_input": 400,
    "result_not_serializable": 400,
    "not_resumable": 400,
    "conflict": 409,
    "database_busy": 503,
    "step_failed": 400,
}
HTTP_CODE_NAMES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _describe_validation(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StepstoneError)
    async def domain_error(_request: Request, exc: StepstoneError) -> JSONResponse:
        return error_response(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid_input", _describe_validation(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODE_NAMES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RecursionError)
    async def too_deep(_request: Request, exc: RecursionError) -> JSONResponse:
        # Input nested deeper than anything walking it can follow. Bodies are refused past
        # schemas.MAX_BODY_DEPTH before that can happen; this is the net under that rule,
        # logged in full in case the recursion is the server's own.
        log.warning("input nested too deeply to process", exc_info=exc)
        return error_response(400, "invalid_input", "the input is nested too deeply to process")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal", "internal error; see the server log")
