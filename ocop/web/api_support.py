"""Shared pieces of the JSON API: documented error responses and field errors → the error shape."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from ocop.domain.errors import FieldError
from ocop.web.errors import ApiError, ErrorResponse, FieldProblem

_EXAMPLE_422 = Example(
    summary="A field failed its rule",
    value={
        "error": {
            "status": 422,
            "code": "invalid",
            "message": "Some fields are invalid.",
            "message_vi": "Một số trường không hợp lệ.",
            "request_id": "5f0c…",
            "fields": [
                {
                    "field": "price",
                    "code": "invalid_money",
                    "message": "Invalid amount: 150.00 (e.g. 150000, 150.000đ, 150k)",
                    "message_vi": "Số tiền không hợp lệ: 150.00 (ví dụ 150000, 150.000đ, 150k)",
                }
            ],
        }
    },
)
_EXAMPLE_404 = Example(
    summary="Missing, or not yours (no existence leak)",
    value={
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "Not found.",
            "message_vi": "Không tìm thấy.",
            "request_id": "5f0c…",
            "fields": [],
        }
    },
)

ERRORS: dict[int, ResponseSpec] = {
    401: ResponseSpec(ErrorResponse, description="Not signed in, or a bad/revoked API token"),
    403: ResponseSpec(
        ErrorResponse, description="Your role cannot do this (or a session write without x-csrftoken)"
    ),
    404: ResponseSpec(ErrorResponse, description="Not found or not yours", examples=[_EXAMPLE_404]),
}
WRITE_ERRORS: dict[int, ResponseSpec] = {
    **ERRORS,
    422: ResponseSpec(ErrorResponse, description="Invalid fields", examples=[_EXAMPLE_422]),
}


def invalid(errors: list[FieldError]) -> ApiError:
    return ApiError(
        422,
        "invalid",
        "Some fields are invalid.",
        "Một số trường không hợp lệ.",
        fields=[
            FieldProblem(field=e.field, code=e.code, message=e.message_en, message_vi=e.message_vi)
            for e in errors
        ],
    )
