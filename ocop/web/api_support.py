"""Shared pieces of the JSON API: what every operation documents, bounded ids, field errors.

Every ``/api/`` operation can fail in the same few ways (a parameter that does not parse, nobody
signed in, a wrong role, a rate limit, an internal error) and, depending on its shape, a few more
(404 when it names an object in its path or body; 413/422 when it takes a body). Rather than
repeating that list on every handler (Litestar 2 reads ``responses=`` and ``security=`` per
handler, not per controller), :class:`ApiDocs` adds them to each API operation as its route is
registered, so the OpenAPI schema documents exactly what :func:`ocop.web.errors.error_handler`
sends and which credentials each operation needs. ``tests/ocop/web/test_api_fuzz.py`` holds the
schema to that with schemathesis.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.config.app import AppConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, Example, SecurityScheme
from litestar.params import PathParameter, QueryParameter
from litestar.plugins import InitPluginProtocol, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from ocop.domain.errors import FieldError
from ocop.web.errors import ApiError, ErrorResponse, FieldProblem

API_PREFIX = "/api/"

MAX_ROW_ID = 2**31 - 1
"""Row ids are piccolo ``Serial`` primary keys and ``ForeignKey`` columns: ``integer`` (int4) on
PostgreSQL (piccolo ``Serial.column_type``). A larger number cannot name a row, and passed on to the
database it overflows the driver (asyncpg: int32; SQLite: int64) into a 500 instead of a 404, so
ids are bounded where they enter."""
MAX_PAGE = 1_000_000
"""Pages beyond this are refused (400) rather than turned into an OFFSET the database rejects."""

RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]
"""A row id inside a JSON body."""
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
"""A row id in the path (``/products/{product_id}``)."""
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID)]
"""An optional row id filter in the query string."""
QueryCode = Annotated[int | None, QueryParameter(ge=0, le=MAX_ROW_ID)]
"""An optional administrative-unit code filter (an ``integer`` column, like the ids)."""
Page = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
PerPage = Annotated[int, QueryParameter(ge=1, le=100)]


def _example(status: int, code: str, message: str, message_vi: str, summary: str,
             fields: list[dict[str, str]] | None = None) -> Example:
    return Example(
        summary=summary,
        value={"error": {"status": status, "code": code, "message": message, "message_vi": message_vi,
                         "request_id": "5f0c2a9e61b84d7f9f0e1c3a2b4d6e8f", "fields": fields or []}},
    )


def error_spec(description: str, *examples: Example) -> ResponseSpec:
    """An error response in the one shape (:class:`ErrorResponse`), for a handler's ``responses=``."""
    return ResponseSpec(ErrorResponse, description=description, examples=list(examples) or None,
                        generate_examples=False)


_ALWAYS: dict[int, ResponseSpec] = {
    400: error_spec(
        "A query or path parameter, a header or the body does not parse (wrong type, out of range)",
        _example(400, "bad_request", "Validation failed for GET /api/v1/products?page=0",
                 "Yêu cầu không hợp lệ.", "A parameter out of range",
                 [{"field": "page", "code": "invalid", "message": "Expected `int` >= 1",
                   "message_vi": "Giá trị không hợp lệ: Expected `int` >= 1"}]),
    ),
    401: error_spec("Not signed in, or a bad/revoked API token",
                    _example(401, "not_authenticated", "Please sign in.", "Vui lòng đăng nhập.",
                             "No session and no Bearer token")),
    403: error_spec("Your role cannot do this (or a session write without x-csrftoken)"),
    429: error_spec("Too many API requests from this token, user or address (ocop.web.ratelimit); "
                    "retry after the Retry-After header's seconds"),
    500: error_spec("Something failed on our side; the body never holds internals (quote request_id)"),
}
_NOT_FOUND = error_spec("Not found, or not yours (no existence leak)",
                        _example(404, "not_found", "Not found.", "Không tìm thấy.",
                                 "Missing, or not yours (no existence leak)"))
_WITH_BODY: dict[int, ResponseSpec] = {
    413: error_spec("The body is larger than this operation accepts"),
    422: error_spec(
        "Some fields break a rule; each one is listed in ``fields``",
        _example(422, "invalid", "Some fields are invalid.", "Một số trường không hợp lệ.",
                 "A field failed its rule",
                 [{"field": "price", "code": "invalid_money",
                   "message": "Invalid amount: 150.00 (e.g. 150000, 150.000đ, 150k)",
                   "message_vi": "Số tiền không hợp lệ: 150.00 (ví dụ 150000, 150.000đ, 150k)"}]),
    ),
}


def error_responses(*, has_path_params: bool, has_body: bool) -> dict[int, ResponseSpec]:
    """The error responses an API operation of this shape can answer with."""
    responses = dict(_ALWAYS)
    if has_path_params or has_body:
        responses[404] = _NOT_FOUND
    if has_body:
        responses.update(_WITH_BODY)
    return dict(sorted(responses.items()))


def security_schemes(session_cookie: str) -> dict[str, SecurityScheme]:
    return {
        "token": SecurityScheme(
            type="http", scheme="bearer", bearer_format="ocop_…",
            description="A personal API token (POST /api/v1/tokens): ``Authorization: Bearer ocop_…``",
        ),
        "session": SecurityScheme(
            type="apiKey", security_scheme_in="cookie", name=session_cookie,
            description="The signed-in browser session; writes also send ``x-csrftoken`` equal to the "
                        "``csrftoken`` cookie",
        ),
    }


SIGNED_IN = [{"token": []}, {"session": []}]
"""Either credential will do: OpenAPI 3.1 "Security Requirement Object", where only one object of
the list needs to be satisfied."""


class ApiDocs(InitPluginProtocol, ReceiveRoutePlugin):
    """Documents every ``/api/`` operation's error responses and credentials; what a handler
    declares itself (a 409, a more precise description, its own ``security``) wins.
    ``sign_in_guards``: the guards that mean "signed in" (``ocop.accounts.auth``); ``session_cookie``:
    the session cookie's name, both given by the app, which knows the accounts feature."""

    def __init__(self, *, sign_in_guards: frozenset[Any], session_cookie: str) -> None:
        self.sign_in_guards = sign_in_guards
        self.session_cookie = session_cookie

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        config = app_config.openapi_config
        if config is not None:
            existing = config.components if isinstance(config.components, list) else [config.components]
            config.components = [*existing, Components(security_schemes=security_schemes(self.session_cookie))]
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            defaults = error_responses(
                has_path_params=bool(route.path_parameters),
                has_body="data" in handler.parsed_fn_signature.parameters,
            )
            handler.responses = {**defaults, **(handler.responses or {})}
            if handler.security is None and any(g in self.sign_in_guards for g in handler.resolve_guards()):
                handler.security = SIGNED_IN


def invalid(errors: list[FieldError]) -> ApiError:
    """Domain field errors as the API's 422 (the same checks and messages as the forms)."""
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
