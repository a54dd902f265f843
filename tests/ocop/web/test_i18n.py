"""Vietnamese by default, English on request: catalogs complete and compiled, the switch remembered."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ocop.accounts.tables import User
from ocop.web.i18n import CATALOG_DIR, format_date, gettext, negotiate
from tests.ocop.web.support import login, make_producer, make_user, post_form

REPO = Path(__file__).resolve().parents[3]
FEATURES = ("accounts", "catalog", "producers", "web", "imports", "marketplace", "reports", "alerts")


def _template_messages() -> set[str]:
    """Strings of every page and of every feature's Python code."""
    method_map = [("ocop/web/templates/**.html", "jinja2")]
    method_map += [(f"ocop/{d}/**.py", "python") for d in FEATURES]
    found = extract_from_dir(str(REPO), method_map, keywords={"_": None, "gettext": (2,)})
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def test_every_page_string_has_an_english_translation_and_mo_files_are_current() -> None:
    with open(CATALOG_DIR / "en/LC_MESSAGES/messages.po", "rb") as fh:
        po = read_po(fh)
    translated = {m.id: m.string for m in po if m.id}
    missing = sorted(m for m in _template_messages() if not translated.get(m))
    assert not missing, f"add these to ocop/web/i18n/en/LC_MESSAGES/messages.po: {missing}"
    for locale in ("vi", "en"):
        with open(CATALOG_DIR / f"{locale}/LC_MESSAGES/messages.po", "rb") as fh:
            source = {m.id: m.string for m in read_po(fh) if m.id and m.string}
        compiled = {
            m.id: m.string
            for m in read_mo(BytesIO((CATALOG_DIR / f"{locale}/LC_MESSAGES/messages.mo").read_bytes()))
            if m.id and m.string
        }
        assert compiled == source, f"run: pybabel compile -d ocop/web/i18n ({locale})"


def test_gettext_dates_and_negotiation() -> None:
    assert gettext("en", "{n} sản phẩm", n=3) == "3 products"
    assert gettext("vi", "{n} sản phẩm", n=3) == "3 sản phẩm"
    assert format_date(date(2026, 3, 5)) == "05/03/2026"

    class Conn:
        def __init__(self, headers: dict[str, str], cookies: dict[str, str]) -> None:
            self.headers, self.cookies = headers, cookies

    assert negotiate(Conn({"accept-language": "en-US,en;q=0.9,vi;q=0.8"}, {})) == "en"  # type: ignore[arg-type]
    assert negotiate(Conn({"accept-language": "fr, vi;q=0.5"}, {})) == "vi"  # type: ignore[arg-type]
    assert negotiate(Conn({"accept-language": "en"}, {"lang": "vi"})) == "vi"  # type: ignore[arg-type]
    assert negotiate(Conn({}, {"lang": "en"}), user_locale="vi") == "vi"  # type: ignore[arg-type]
    assert negotiate(Conn({}, {})) == "vi"  # type: ignore[arg-type]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_language_switch_is_remembered(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564")
    uid = await make_user("a1", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        first = await client.get("/login", headers={"accept": "text/html"})
        assert "Đăng nhập" in first.text and '<html lang="vi">' in first.text
        switched = await post_form(client, "/lang", {"lang": "en", "next": "/login"})
        assert switched.status_code == 303 and switched.headers["location"] == "/login"
        page = await client.get("/login", headers={"accept": "text/html"})
        assert "Sign in" in page.text and '<html lang="en">' in page.text
        await login(client, "a1")
        await post_form(client, "/lang", {"lang": "en", "next": "/products"}, from_page="/products")
        assert (await User.select(User.locale).where(User.id == uid).first())["locale"] == "en"
        client.cookies.delete("lang")
        listing = await client.get("/products", headers={"accept": "text/html"})
        assert "Search by name" in listing.text  # the account's setting, without the cookie
