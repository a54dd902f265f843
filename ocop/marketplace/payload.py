"""Our product as the neutral ``ProductInput`` the connectors' mappers take, and its hash.

The hash covers every business field and the photos' content keys (not the marketplace image ids,
which differ per shop), so "re-push only when what we would send changed" is a string compare.
Price and stock are left out of it: they travel through the partial price/stock push
(:mod:`ocop.marketplace.stock`), and a change of either must never re-push (and re-review) the item.
The stock a whole push carries is ocop's offer (available less the safety buffer), the same number a
partial push would send.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import msgspec

from connectors.base import ProductInput
from ocop import db
from ocop.catalog.certificates import current_certificate
from ocop.catalog.tables import Image, Product
from ocop.marketplace.stock import offered_stock


@dataclass(frozen=True, slots=True)
class Draft:
    """The payload before image upload: ``image_keys`` are media-store keys of the renditions."""

    product: ProductInput
    image_keys: tuple[str, ...]
    hash: str


def _cm(mm: int | None) -> int:
    return max(1, math.ceil((mm or 10) / 10))


def rendition_keys(images: list[dict], marketplace: str) -> tuple[str, ...]:
    keys = []
    for image in sorted(images, key=lambda i: (i["position"], i["id"])):
        if image.get("status") != "ready":
            continue
        chosen = db.json_value(image["renditions"], {}).get(marketplace)
        if isinstance(chosen, dict) and chosen.get("key"):
            keys.append(str(chosen["key"]))
    return tuple(keys)


async def build_draft(product_id: int, marketplace: str, seller_sku: str) -> Draft:
    product = await Product.select().where(Product.id == product_id).first()
    if product is None:
        raise LookupError(f"product {product_id} not found")
    cert = await current_certificate(product_id)
    images = await Image.select().where(Image.product == product_id)
    keys = rendition_keys(images, marketplace)
    item = ProductInput(
        seller_sku=seller_sku,
        name=product["name"],
        description=product["description"] or product["name"],
        price_vnd=int(product["price_vnd"] or 0),
        stock=await offered_stock(product_id),
        weight_g=int(product["weight_g"] or 0),
        length_cm=_cm(product["length_mm"]),
        width_cm=_cm(product["width_mm"]),
        height_cm=_cm(product["height_mm"]),
        ocop_stars=int(cert["stars"]) if cert else 0,
        certificate_number=cert["decision_number"] if cert else "",
        certificate_issuer=cert["issuing_body"] if cert else "",
        ocop_group=int(product["ocop_group"] or 1),
        unit=product["unit"] or "",
    )
    content = msgspec.structs.replace(item, price_vnd=0, stock=0)
    digest = hashlib.sha256(msgspec.json.encode(content) + b"|" + "|".join(keys).encode()).hexdigest()
    return Draft(product=item, image_keys=keys, hash=digest)
