"""What an alert says, in Vietnamese or English: the in-app line, the Zalo template data and the
e-mail. Made from the event's payload when shown or sent, so a digest can say "3 đơn hàng mới".
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.registry import MARKETPLACES
from ocop.alerts.kinds import TEMPLATE_KEYS
from ocop.domain.money import format_vnd
from ocop.events.outbox import (AUTH_EXPIRING, CERT_EXPIRING, LISTING_REJECTED, NEW_ORDER, SHOP_REAUTH,
                                STOCK_LOW)
from ocop.marketplace import reasons
from ocop.web.i18n import gettext

MAX_VALUE = 200  # a ZNS parameter's widest length


@dataclass(frozen=True, slots=True)
class Text:
    title: str
    body: str


def payload_of(value: Any) -> dict[str, Any]:
    data = json.loads(value) if isinstance(value, (str, bytes)) and value else value
    return data if isinstance(data, dict) else {}


def _market(code: str) -> str:
    info = MARKETPLACES.get(code)
    return info.name if info else code


def _date(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return value or ""


def is_ban(reason: str) -> bool:
    low = (reason or "").lower()
    return "banned" in low or "khoá" in low or "khóa" in low


def _explained(payload: dict[str, Any], locale: str) -> tuple[str, str, str]:
    """(what the marketplace meant, what to change, its own words) in ``locale``."""
    original = str(payload.get("reason") or "")
    vi, en = reasons.halves(original)
    found = reasons.explain(en if en != original else original)
    if found is None:
        return "", "", ""
    if locale == "en":
        return found.en, found.fix_en, found.original
    return found.vi, found.fix_vi, vi if vi != original else found.original


def text(kind: str, payload: dict[str, Any], locale: str, count: int = 1) -> Text:
    """The title and body of an alert (``count`` > 1: a digest of that many events)."""
    p = payload
    market = _market(str(p.get("marketplace", "")))
    product = str(p.get("product_name") or "")
    if kind == NEW_ORDER:
        total = format_vnd(int(p.get("total_vnd") or 0))
        items = ", ".join(p.get("items") or [])
        if count > 1:
            return Text(gettext(locale, "{count} đơn hàng mới", count=count),
                        gettext(locale, "{count} đơn hàng mới trên {marketplace}; đơn gần nhất {order}: {items}, "
                                        "tổng {total}.", count=count, marketplace=market, order=p.get("order_id", ""),
                                items=items, total=total))
        return Text(gettext(locale, "Đơn hàng mới trên {marketplace}", marketplace=market),
                    gettext(locale, "Đơn {order}: {items}, tổng {total}.", order=p.get("order_id", ""), items=items,
                            total=total))
    if kind == LISTING_REJECTED:
        what, fix, original = _explained(p, locale)
        title = (gettext(locale, "{marketplace} khoá sản phẩm {product}", marketplace=market, product=product)
                 if is_ban(str(p.get("reason", ""))) else
                 gettext(locale, "{marketplace} từ chối sản phẩm {product}", marketplace=market, product=product))
        body = gettext(locale, "{what} Cần làm: {fix} (Lý do của sàn: {original})", what=what, fix=fix,
                       original=original) if what else ""
        if count > 1:
            title = gettext(locale, "{title} ({count} lần)", title=title, count=count)
        return Text(title, body)
    if kind == SHOP_REAUTH:
        return Text(gettext(locale, "Gian hàng {shop} trên {marketplace} cần kết nối lại", shop=p.get("shop_name", ""),
                            marketplace=market),
                    gettext(locale, "Sàn không còn nhận quyền truy cập của gian hàng nên đơn hàng và tồn kho đang "
                                    "dừng đồng bộ. Vào Gian hàng và bấm Kết nối lại."))
    if kind == AUTH_EXPIRING:
        return Text(gettext(locale, "Ủy quyền gian hàng {shop} sắp hết hạn", shop=p.get("shop_name", "")),
                    gettext(locale, "Ủy quyền cho {marketplace} hết hạn ngày {date}. Kết nối lại gian hàng trước "
                                    "ngày đó để không bị gián đoạn.", marketplace=market,
                            date=_date(str(p.get("expires_on", "")))))
    if kind == CERT_EXPIRING:
        return Text(gettext(locale, "Giấy chứng nhận OCOP của {product} sắp hết hạn", product=product),
                    gettext(locale, "Giấy chứng nhận hết hạn ngày {date}; sau ngày đó sản phẩm sẽ bị gỡ khỏi sàn. "
                                    "Hãy làm hồ sơ đánh giá lại và cập nhật giấy chứng nhận mới.",
                            date=_date(str(p.get("expires_on", "")))))
    if kind == STOCK_LOW:
        return Text(gettext(locale, "Sắp hết hàng: {product}", product=product),
                    gettext(locale, "Chỉ còn {available} sản phẩm có thể bán trên các sàn. Cập nhật tồn kho khi có "
                                    "hàng mới.", available=p.get("available", 0)))
    return Text(kind, "")


def _short(value: object) -> str:
    text_value = unicodedata.normalize("NFC", str(value if value is not None else ""))
    return (text_value[:MAX_VALUE - 1] + "…") if len(text_value) > MAX_VALUE else text_value or "-"


def template_data(kind: str, payload: dict[str, Any], count: int) -> dict[str, str]:
    """The ZNS ``template_data`` of a kind's template (Vietnamese: Zalo templates are approved
    in one language), each value text of at most 200 characters."""
    p = payload
    market = _market(str(p.get("marketplace", "")))
    if kind == NEW_ORDER:
        data = {"count": count, "product_name": p.get("product_name", ""), "marketplace": market,
                "order_code": p.get("order_id", ""), "total": format_vnd(int(p.get("total_vnd") or 0))}
    elif kind == LISTING_REJECTED:
        what, fix, original = _explained(p, "vi")
        data = {"product_name": p.get("product_name", ""), "marketplace": market,
                "reason": f"{what} ({original})" if what else original, "fix": fix}
    elif kind in (SHOP_REAUTH, AUTH_EXPIRING):
        data = {"shop_name": p.get("shop_name", ""), "marketplace": market,
                "expires_on": _date(str(p.get("expires_on", "")))}
    elif kind == CERT_EXPIRING:
        data = {"product_name": p.get("product_name", ""), "expires_on": _date(str(p.get("expires_on", "")))}
    else:
        data = {"product_name": p.get("product_name", ""), "available": p.get("available", 0)}
    return {key: _short(data.get(key)) for key in TEMPLATE_KEYS[kind]}


def link(kind: str, *, product: int | None, shop: int | None, producer: int, staff: bool) -> str:
    """Where the alert leads: the product (its marketplaces page for a rejection), the shops page
    (for staff: the producer's page, where they act for them)."""
    if kind == LISTING_REJECTED and product:
        return f"/products/{product}/marketplaces"
    if kind in (SHOP_REAUTH, AUTH_EXPIRING) or not product:
        return f"/producers/{producer}" if staff else "/shops"
    return f"/products/{product}"
