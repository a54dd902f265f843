"""The notification list (each user sees only their own), marking read, and the choices page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from ocop.accounts.access import acting_producer
from ocop.accounts.auth import Me, requires_user, viewer
from ocop.alerts import messages, prefs
from ocop.alerts.kinds import LABELS, STAFF_KINDS
from ocop.alerts.tables import AlertPreference, Notification, StockAlertLevel
from ocop.catalog.tables import Product
from ocop.domain.phone import format_phone, parse_phone
from ocop.events.outbox import KINDS
from ocop.marketplace.stock import availability
from ocop.web.i18n import gettext, locale_of
from ocop.web.render import form_dict, id_param, render, see_other

PAGE = {"include_in_schema": False, "guards": [requires_user]}
SHOWN = 100
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@get("/notifications", **PAGE)
async def notification_list(request: Request[Any, Any, Any], me: Me) -> Template:
    locale = locale_of(request)
    rows = await Notification.select().where(Notification.user == me.user_id).order_by(
        Notification.id, ascending=False).limit(SHOWN)
    items = []
    for r in rows:
        shown = messages.text(r["kind"], messages.payload_of(r["payload"]), locale)
        items.append({"id": r["id"], "title": shown.title, "body": shown.body, "at": r["created_at"],
                      "unread": r["read_at"] is None, "kind": gettext(locale, LABELS.get(r["kind"], r["kind"])),
                      "link": messages.link(r["kind"], product=r["product"], shop=r["shop"], producer=r["producer"],
                                            staff=not me.is_producer)})
    unread = await Notification.count().where((Notification.user == me.user_id) & Notification.read_at.is_null())
    return render("alerts/list.html", items=items, unread_total=unread)


@post("/notifications/{notification_id:int}/read", **PAGE)
async def mark_read(notification_id: int, me: Me) -> Redirect:
    done = await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
        (Notification.id == notification_id) & (Notification.user == me.user_id)).returning(Notification.id)
    if not done:  # someone else's, or none: the same answer
        raise NotFoundException("Not found.")
    return see_other("/notifications")


@post("/notifications/read-all", **PAGE)
async def mark_all_read(me: Me) -> Redirect:
    await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
        (Notification.user == me.user_id) & Notification.read_at.is_null())
    return see_other("/notifications")


def _kinds_for(me: Any) -> list[str]:
    return list(KINDS) if me.is_producer else [k for k in KINDS if k in STAFF_KINDS]


def _shown_phone(phone: str) -> str:
    """A stored (E.164) number as people write it: 0912 345 678."""
    return format_phone(phone) if phone.startswith("+84") else phone


def _form_of(choices: prefs.Choices, kinds: list[str]) -> dict[str, Any]:
    return {"zalo_phone": _shown_phone(choices.zalo_phone), "email": choices.email, "use_zalo": choices.use_zalo,
            "use_email": choices.use_email, "quiet_start": prefs.hhmm(choices.quiet_start),
            "quiet_end": prefs.hhmm(choices.quiet_end), "kinds": {k: choices.wants(k) for k in kinds}}


@get("/notifications/settings", **PAGE)
async def settings_form(request: Request[Any, Any, Any], me: Me) -> Template:
    kinds = _kinds_for(me)
    return render("alerts/settings.html", form=_form_of((await prefs.choices_of_user(me.user_id))[0], kinds), errors={}, saved=False,
                  kinds=[(k, LABELS[k]) for k in kinds])


@post("/notifications/settings", **PAGE)
async def settings_save(request: Request[Any, Any, Any], me: Me) -> Template:
    locale = locale_of(request)
    data = await form_dict(request)
    kinds = _kinds_for(me)
    errors: dict[str, str] = {}
    phone = data.get("zalo_phone", "").strip()
    if phone and not prefs.zalo_number(phone):
        errors["zalo_phone"] = gettext(locale, "Số điện thoại Zalo không hợp lệ (ví dụ 0912 345 678).")
    email = data.get("email", "").strip()
    if email and not EMAIL.match(email):
        errors["email"] = gettext(locale, "Địa chỉ e-mail không hợp lệ.")
    quiet: dict[str, int | None] = {}
    for name in ("quiet_start", "quiet_end"):
        try:
            quiet[name] = prefs.parse_hhmm(data.get(name, ""))
        except ValueError:
            errors[name] = gettext(locale, "Giờ phải có dạng HH:MM, ví dụ 21:00.")
    if not errors and (quiet["quiet_start"] is None) != (quiet["quiet_end"] is None):
        errors["quiet_end"] = gettext(locale, "Cần cả giờ bắt đầu và giờ kết thúc.")
    off = [k for k in kinds if data.get(f"kind_{k}") != "on"]
    form = {"zalo_phone": phone, "email": email, "use_zalo": data.get("use_zalo") == "on",
            "use_email": data.get("use_email") == "on", "quiet_start": data.get("quiet_start", ""),
            "quiet_end": data.get("quiet_end", ""), "kinds": {k: k not in off for k in kinds}}
    if errors:
        return render("alerts/settings.html", status_code=400, form=form, errors=errors, saved=False,
                      kinds=[(k, LABELS[k]) for k in kinds])
    values = {AlertPreference.zalo_phone: parse_phone(phone) if phone else "", AlertPreference.email: email,
              AlertPreference.use_zalo: form["use_zalo"], AlertPreference.use_email: form["use_email"],
              AlertPreference.kinds_off: json.dumps(off), AlertPreference.quiet_start: quiet["quiet_start"],
              AlertPreference.quiet_end: quiet["quiet_end"], AlertPreference.updated_at: datetime.now(UTC)}
    updated = await AlertPreference.update(values).where(AlertPreference.user == me.user_id).returning(
        AlertPreference.id)
    if not updated:
        await AlertPreference.insert(AlertPreference(user=me.user_id, **{c._meta.name: v for c, v in values.items()}))
    return render("alerts/settings.html", form=form, errors={}, saved=True, kinds=[(k, LABELS[k]) for k in kinds])


async def unread_count(request: Request[Any, Any, Any]) -> None:
    """App-wide ``before_request`` (after the user is known): the bell's count for HTML pages, kept
    in the request state for the header. JSON API calls, static files and HTMX fragments (a status
    that polls) skip the query."""
    path = request.scope.get("path", "")
    if request.method != "GET" or request.headers.get("hx-request") or path.startswith(
            ("/api/", "/static/", "/healthz", "/readyz", "/metrics")):
        return
    me = viewer({"request": request})
    if me is None:
        return
    request.scope.setdefault("state", {})["unread_alerts"] = await Notification.count().where(
        (Notification.user == me.user_id) & Notification.read_at.is_null())


def unread(context: dict[str, Any]) -> int:
    """Template callable: the bell's count (0 when not computed)."""
    return int(context["request"].scope.get("state", {}).get("unread_alerts") or 0)


async def _levels_page(me: Any, producer_id: int, settings: Any, *, form: dict[str, str] | None = None,
                       errors: dict[str, str] | None = None, saved: bool = False, status_code: int = 200) -> Template:
    products = await Product.select(Product.id, Product.name).where(
        (Product.producer == producer_id) & (Product.status != "archived")).order_by(Product.name_folded)
    ids = [p["id"] for p in products]
    levels = {r["product"]: r["level"] for r in await StockAlertLevel.select().where(
        StockAlertLevel.product.is_in(ids or [0]))}
    numbers = await availability(ids)
    rows = [{"id": p["id"], "name": p["name"], "available": numbers[p["id"]].available if p["id"] in numbers else 0,
             "value": (form or {}).get(f"level_{p['id']}", str(levels.get(p["id"], "")))} for p in products]
    return render("alerts/stock_levels.html", status_code=status_code, rows=rows, errors=errors or {}, saved=saved,
                  default_level=settings.alert_low_stock, producer_id=producer_id)


@get("/notifications/stock-levels", **PAGE)
async def stock_levels_form(request: Request[Any, Any, Any], me: Me) -> Template:
    producer_id = await acting_producer(me, id_param(request.query_params.get("producer")))
    return await _levels_page(me, producer_id, request.app.state.settings)


@post("/notifications/stock-levels", **PAGE)
async def stock_levels_save(request: Request[Any, Any, Any], me: Me) -> Template:
    """Each product's own "running low" level; an empty box means the default level."""
    data = await form_dict(request)
    producer_id = await acting_producer(me, id_param(data.get("producer")))
    locale = locale_of(request)
    ids = {p["id"] for p in await Product.select(Product.id).where(Product.producer == producer_id)}
    wanted: dict[int, int | None] = {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        if not key.startswith("level_") or id_param(key[6:]) not in ids:
            continue
        value = value.strip()
        if value and (not value.isdigit() or int(value) > 100_000):
            errors[key] = gettext(locale, "Nhập một số nguyên từ 0 đến 100.000, hoặc để trống để dùng mức chung.")
        else:
            wanted[int(key[6:])] = int(value) if value else None
    if errors:
        return await _levels_page(me, producer_id, request.app.state.settings, form=data, errors=errors,
                                  status_code=400)
    await StockAlertLevel.delete().where(StockAlertLevel.product.is_in([k for k, v in wanted.items() if v is None]
                                                                       or [0]))
    for product_id, level in wanted.items():
        if level is None:
            continue
        done = await StockAlertLevel.update({StockAlertLevel.level: level}).where(
            StockAlertLevel.product == product_id).returning(StockAlertLevel.id)
        if not done:
            await StockAlertLevel.insert(StockAlertLevel(product=product_id, level=level))
    return await _levels_page(me, producer_id, request.app.state.settings, saved=True)


ROUTES = [notification_list, mark_read, mark_all_read, settings_form, settings_save, stock_levels_form,
          stock_levels_save]
