"""Languages of the pages: Vietnamese (default) and English, through gettext catalogs made with Babel.

Message ids are the Vietnamese text as it appears on the page, so a missing or stale catalog still
shows Vietnamese; ``en/LC_MESSAGES/messages.po`` holds the English. Rebuild the ``.mo`` files with
``pybabel compile -d ocop/web/i18n`` after editing a ``.po`` (a test checks they match).

The locale is chosen per request (DESIGN "Web": user setting or Accept-Language): the signed-in
user's setting, else the ``lang`` cookie set by the language switch, else Accept-Language, else vi.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from litestar.connection import ASGIConnection

from ocop.domain.money import format_vnd

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LANG_COOKIE = "lang"
CATALOG_DIR = Path(__file__).parent


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (an empty one for an unknown locale)."""
    if locale not in LOCALES:
        return NullTranslations()
    return Translations.load(str(CATALOG_DIR), [locale], domain="messages")


def _from_accept_language(header: str) -> str | None:
    best: tuple[float, str] | None = None
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LOCALES and (best is None or quality > best[0]):
            best = (quality, lang)
    return best[1] if best else None


def negotiate(connection: ASGIConnection[Any, Any, Any, Any], user_locale: str | None = None) -> str:
    """Pick the locale for this request (see the module docstring for the order)."""
    if user_locale in LOCALES:
        return user_locale  # type: ignore[return-value]
    cookie = connection.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie  # type: ignore[return-value]
    return _from_accept_language(connection.headers.get("accept-language", "")) or DEFAULT_LOCALE


def locale_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The locale chosen for this request (set by the auth layer once the user is known)."""
    value = connection.scope.get("state", {}).get("locale")
    return value if value in LOCALES else negotiate(connection)


def gettext(locale: str, message: str, **values: Any) -> str:
    text = translations(locale).gettext(message)
    return text.format(**values) if values else text


def format_date(value: date | datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """dd/mm/yyyy, the way dates are written in Vietnam (also used for English pages, which are
    read by the same staff; it avoids the US month-first ambiguity)."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def format_time(value: datetime | None) -> str:
    """``dd/mm/yyyy HH:MM`` in Vietnam time: times are stored in UTC, people read them in UTC+7
    (a naive value is taken as UTC, as the database hands it back)."""
    if value is None:
        return ""
    from ocop.domain.dates import VN_TZ

    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def pick(locale: str, message_vi: str, message_en: str) -> str:
    """Choose between the two messages the domain rules carry."""
    return message_en if locale == "en" else message_vi


def template_callables() -> dict[str, Any]:
    """Callables registered on the Jinja engine; each receives the template context first."""

    def _(context: dict[str, Any], message: str, **values: Any) -> str:
        return gettext(locale_of(context["request"]), message, **values)

    def fmt_date(context: dict[str, Any], value: date | datetime | None) -> str:
        return format_date(value, locale_of(context["request"]))

    def fmt_time(context: dict[str, Any], value: datetime | None) -> str:
        return format_time(value)

    def fmt_vnd(context: dict[str, Any], value: int | None) -> str:
        return "" if value is None else format_vnd(value)

    def current_locale(context: dict[str, Any]) -> str:
        return locale_of(context["request"])

    def bi(context: dict[str, Any], message_vi: str, message_en: str) -> str:
        return pick(locale_of(context["request"]), message_vi, message_en)

    return {"_": _, "fmt_date": fmt_date, "fmt_time": fmt_time, "fmt_vnd": fmt_vnd,
            "current_locale": current_locale, "bi": bi}
