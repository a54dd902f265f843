"""The alert kinds: their names for people, the ZNS template each uses and its data keys.

Zalo approves templates beforehand, so each kind is one template with fixed keys; the template
ids are settings (``OCOP_ZALO_TEMPLATES``), the defaults being those the sandbox's Zalo emulation
registers.
"""

from __future__ import annotations

from ocop.events.outbox import (AUTH_EXPIRING, CERT_EXPIRING, KINDS, LISTING_REJECTED, NEW_ORDER, SHOP_REAUTH,
                                STOCK_LOW)
from ocop.settings import Settings


def _(message: str) -> str:
    """Marks a label for the gettext catalog; translated where shown."""
    return message


LABELS = {
    NEW_ORDER: _("Đơn hàng mới"),
    LISTING_REJECTED: _("Tin đăng bị từ chối hoặc bị khoá"),
    SHOP_REAUTH: _("Gian hàng cần kết nối lại"),
    AUTH_EXPIRING: _("Ủy quyền gian hàng sắp hết hạn"),
    CERT_EXPIRING: _("Giấy chứng nhận OCOP sắp hết hạn"),
    STOCK_LOW: _("Sắp hết hàng"),
}

STAFF_KINDS = (LISTING_REJECTED, SHOP_REAUTH)
"""Kinds the area's extension staff hear of too: shop and ban problems, which they help fix."""

TEMPLATE_KEYS: dict[str, tuple[str, ...]] = {
    NEW_ORDER: ("count", "product_name", "marketplace", "order_code", "total"),
    LISTING_REJECTED: ("product_name", "marketplace", "reason", "fix"),
    SHOP_REAUTH: ("shop_name", "marketplace"),
    AUTH_EXPIRING: ("shop_name", "marketplace", "expires_on"),
    CERT_EXPIRING: ("product_name", "expires_on"),
    STOCK_LOW: ("product_name", "available"),
}
DEFAULT_TEMPLATE_IDS = {kind: str(310001 + n) for n, kind in enumerate(KINDS)}


def template_ids(settings: Settings) -> dict[str, str]:
    """kind → ZNS template id: ``OCOP_ZALO_TEMPLATES`` (``kind=id,…``) over the defaults."""
    ids = dict(DEFAULT_TEMPLATE_IDS)
    for part in settings.zalo_templates.split(","):
        kind, sep, template = part.strip().partition("=")
        if sep and kind.strip() in ids and template.strip():
            ids[kind.strip()] = template.strip()
    return ids


def sandbox_templates(settings: Settings) -> dict[str, list[str]]:
    """The templates to register in the sandbox's Zalo emulation: ours, with their keys."""
    return {template: list(TEMPLATE_KEYS[kind]) for kind, template in template_ids(settings).items()}
