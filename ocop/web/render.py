"""Small helpers shared by the HTML pages of every feature."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Redirect, Template

from ocop.web.i18n import locale_of


def render(template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=template, context=context, status_code=status_code, media_type=MediaType.HTML
    )


def see_other(url: str) -> Redirect:
    """303 after a successful POST, so reloading the next page never re-submits the form."""
    return Redirect(path=url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site relative paths (no open redirect through ``?next=//evil``)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def id_param(value: str | None) -> int | None:
    """An id from a query string or form field: digits only, else None (never a 500 on junk)."""
    return int(value) if value and value.isdigit() else None


async def form_dict(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (last value wins), without the CSRF field."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def locale(request: Request[Any, Any, Any]) -> str:
    return locale_of(request)
