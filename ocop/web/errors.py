"""One error shape for the whole API, and friendly pages for people. Never a traceback.

JSON shape (documented in the OpenAPI schema)::

    {"error": {"status": 404, "code": "not_found", "message": "...", "message_vi": "...",
               "fields": [{"field": "price", "code": "...", "message": "...", "message_vi": "..."}],
               "request_id": "..."}}
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from ocop.logs import log
from ocop.web.request_id import ensure_request_id


class FieldProblem(msgspec.Struct):
    field: str
    code: str
    message: str
    message_vi: str


class ErrorBody(msgspec.Struct):
    status: int
    code: str
    message: str
    message_vi: str
    request_id: str = ""
    fields: list[FieldProblem] = msgspec.field(default_factory=list)


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class ApiError(HTTPException):
    """Raise from services and controllers for an expected, explained failure."""

    def __init__(self, status_code: int, code: str, message: str, message_vi: str,
                 fields: list[FieldProblem] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message)
        self.code = code
        self.message_en = message
        self.message_vi = message_vi
        self.fields = fields or []


_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "The request is malformed.", "Yêu cầu không hợp lệ."),
    401: ("not_authenticated", "Please sign in.", "Vui lòng đăng nhập."),
    403: ("forbidden", "You are not allowed to do this.", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Not found.", "Không tìm thấy."),
    405: ("method_not_allowed", "Method not allowed.", "Phương thức không được hỗ trợ."),
    409: ("conflict", "This conflicts with existing data.", "Dữ liệu bị trùng hoặc xung đột."),
    413: ("too_large", "The upload is too large.", "Tệp tải lên quá lớn."),
    415: ("unsupported_media_type", "Unsupported content type.", "Định dạng không được hỗ trợ."),
    422: ("invalid", "Some fields are invalid.", "Một số trường không hợp lệ."),
    429: ("rate_limited", "Too many requests; try again shortly.", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    500: ("internal_error", "Something went wrong on our side.", "Hệ thống gặp sự cố, vui lòng thử lại sau."),
    503: ("unavailable", "Temporarily unavailable.", "Dịch vụ tạm thời không sẵn sàng."),
}


def _body(request: Request[Any, Any, Any], exc: Exception) -> ErrorBody:
    request_id = ensure_request_id(request.scope)
    if isinstance(exc, ApiError):
        return ErrorBody(status=exc.status_code, code=exc.code, message=exc.message_en,
                         message_vi=exc.message_vi, request_id=request_id, fields=exc.fields)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, en, vi = _DEFAULTS.get(status, _DEFAULTS[500 if status >= 500 else 400])
    fields: list[FieldProblem] = []
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                name = str(item.get("key") or item.get("source") or "")
                msg = str(item.get("message", "invalid"))
                fields.append(FieldProblem(field=name, code="invalid", message=msg,
                                           message_vi=f"Giá trị không hợp lệ: {msg}"))
    elif isinstance(exc, HTTPException) and status < 500 and exc.detail and exc.detail != en:
        en = str(exc.detail)
    return ErrorBody(status=status, code=code, message=en, message_vi=vi, request_id=request_id, fields=fields)


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/schema", "/healthz", "/readyz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    body = _body(request, exc)
    if body.status >= 500:
        log.error("unhandled_error", exc_info=exc, path=request.url.path)
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if _wants_html(request):
        return Template(template_name="error.html", context={"error": body}, status_code=body.status,
                        headers=headers, media_type=MediaType.HTML)  # type: ignore[return-value]
    return Response(content=ErrorResponse(error=body), status_code=body.status, headers=headers,
                    media_type=MediaType.JSON)
