"""Our product as the neutral ``ProductInput`` the connectors' mappers take, and its hash.

The hash covers every business field and the photos' content keys (not the marketplace image ids,
which differ per shop), so "re-push only when what we would send changed" is a string compare.
Price and stock are left out of it: they travel through the partial price/stock push
(:mod:`ocop.marketplace.stock`), and a change of either must never re-push (and re-review) the item.
The stock a whole push carries is ocop's offer (available less the safety buffer), the same number a
partial push would send.

A product with variants goes as one item with its variation attributes and one SKU per variant
(each with its own price and offer); the variants' SKUs, options and photos are content (a change
re-pushes the item: Shopee add_model etc.), their prices and stocks are not.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import msgspec

from connectors.base import ProductInput, VariantInput, VariationAttribute
from ocop import db
from ocop.catalog.certificates import current_certificate
from ocop.catalog.tables import Image, Product
from ocop.catalog.variant_store import variants_of, variation_of
from ocop.marketplace.stock import offered_stock, variant_availability


@dataclass(frozen=True, slots=True)
class Draft:
    """The payload before image upload: ``image_keys`` are media-store keys of the renditions."""

    product: ProductInput
    image_keys: tuple[str, ...]
    hash: str
    variant_image_keys: tuple[str, ...] = ()
    """Per variant, the media key of its photo's rendition ("" for none); publishing turns each
    into the marketplace image id once the product's photos are uploaded."""

    def with_images(self, image_ids: tuple[str, ...]) -> ProductInput:
        """The payload with the uploaded photos' marketplace ids (``image_ids`` follow ``image_keys``)."""
        by_key = dict(zip(self.image_keys, image_ids))
        variants = tuple(msgspec.structs.replace(v, image_id=by_key.get(key, ""))
                         for v, key in zip(self.product.variants, self.variant_image_keys))
        return msgspec.structs.replace(self.product, image_ids=image_ids, variants=variants)


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
    variation, variants, variant_keys = await _variants(product, images, marketplace, keys)
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
        variation=variation,
        variants=variants,
    )
    content = msgspec.to_builtins(msgspec.structs.replace(item, price_vnd=0, stock=0, variants=tuple(
        msgspec.structs.replace(v, price_vnd=0, stock=0) for v in variants)))
    if not variants:  # the same bytes as before variants existed: no listing looks changed by them
        del content["variation"], content["variants"]
    hashed = msgspec.json.encode(content) + b"|" + "|".join(keys).encode()
    if variants:
        hashed += b"|" + "|".join(variant_keys).encode()
    digest = hashlib.sha256(hashed).hexdigest()
    return Draft(product=item, image_keys=keys, hash=digest, variant_image_keys=variant_keys)


async def _variants(product: dict, images: list[dict], marketplace: str, keys: tuple[str, ...]
                    ) -> tuple[tuple[VariationAttribute, ...], tuple[VariantInput, ...], tuple[str, ...]]:
    """The product's attributes, its variants with ocop's offer each, and each variant's photo key
    (only a photo the item itself carries can be a variant's)."""
    rows = await variants_of(int(product["id"]))
    if not rows:
        return (), (), ()
    attributes = variation_of(product)
    numbers = (await variant_availability([int(product["id"])])).get(int(product["id"]), {})
    photo = {int(i["id"]): rendition_keys([{**i, "position": 0}], marketplace) for i in images}
    out, variant_keys = [], []
    for row in rows:
        n = numbers.get(row["sku"])
        out.append(VariantInput(
            seller_sku=row["sku"], options=(row["option1"], row["option2"])[:len(attributes)],
            price_vnd=int(row["price_vnd"] or 0), stock=n.offer if n else 0,
            weight_g=int(row["weight_g"] or 0)))
        key = (photo.get(int(row["image"])) or ("",))[0] if row["image"] else ""
        variant_keys.append(key if key in keys else "")
    return (tuple(VariationAttribute(a.name, tuple(a.options)) for a in attributes), tuple(out),
            tuple(variant_keys))
