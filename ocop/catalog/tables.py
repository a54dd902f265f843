"""Products, their OCOP certificates and their photos."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.producers.tables import Producer


class Product(Table, tablename="product"):
    """Money is integer VND (no minor unit); lengths are whole millimetres and weight whole grams,
    so nothing is a float. ``sku`` is unique per producer; the marketplace seller SKU is derived
    from it and stays stable for the life of a listing."""

    producer = ForeignKey(Producer, index=True)
    sku = Varchar(length=64)
    name = Varchar(length=255)
    name_folded = Varchar(length=255, index=True)
    ocop_group = Integer(null=True, default=None)  # 1..6, see ocop.domain.ocop
    sub_group = Varchar(length=120, default="")
    description = Text(default="")
    unit = Varchar(length=24, default="")
    net_quantity = Varchar(length=64, default="")  # "500 ml", "hũ 500 g"
    weight_g = Integer(null=True, default=None)
    length_mm = Integer(null=True, default=None)
    width_mm = Integer(null=True, default=None)
    height_mm = Integer(null=True, default=None)
    price_vnd = BigInt(null=True, default=None)
    stock = Integer(default=0)
    stock_buffer = Integer(default=0)  # units kept back from what each marketplace is offered
    shelf_life_days = Integer(null=True, default=None)
    ingredients = Text(default="")
    status = Varchar(length=16, default="draft", index=True)  # draft | active | archived
    content_hash = Varchar(length=64, default="")  # hash of the row's business fields (re-import)
    variation = JSON(default=[])
    """The 0–2 variation attributes in order, ``[{"name": "Dung tích", "options": ["250 ml", "500 ml"]}]``
    (:mod:`ocop.catalog.variants`). Empty: the product sells as one SKU with its own price and stock.
    Otherwise ``sku`` is the product key (parent SKU) and ``price_vnd`` / ``stock`` are kept equal to
    the lowest variant price and the sum of variant stocks on every save, so lists, filters and
    reports that read the product keep working."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Certificate(Table, tablename="certificate"):
    """An OCOP certification decision: 3–5 stars, valid 36 months by default."""

    product = ForeignKey(Product, index=True)
    stars = Integer()
    score = Integer(null=True, default=None)
    decision_number = Varchar(length=64, default="")
    issuing_body = Varchar(length=200, default="")
    issued_on = Date(null=True, default=None)
    expires_on = Date(null=True, default=None, index=True)
    scan_key = Varchar(length=80, default="")  # media store key of the scanned decision
    created_at = Timestamptz(default=TimestamptzNow())


class Image(Table, tablename="product_image"):
    """A product photo: the original is kept by content hash, renditions per marketplace profile
    are derived (``renditions``: profile -> {key, width, height, bytes}) and can be re-made."""

    product = ForeignKey(Product, index=True)
    position = Integer(default=0)
    original_key = Varchar(length=80)
    original_name = Varchar(length=255, default="")
    source_url = Varchar(length=1000, default="")
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    bytes = Integer(null=True, default=None)
    phash = Varchar(length=32, default="", index=True)
    renditions = JSON(default={})
    status = Varchar(length=16, default="pending")  # pending | ready | rejected
    error_code = Varchar(length=64, default="")
    error_message = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Variant(Table, tablename="product_variant"):
    """One combination of a product's variation options the producer offers (at most 50 per
    product), with its own seller SKU, price, stock, weight and package size. ``option1`` and
    ``option2`` are values of the product's first and second attribute (``""`` when it has only one).
    The SKU is unique within the producer, across their products' own SKUs too: a marketplace needs
    unique seller SKUs per shop. ``image`` is one of the product's own photos, optional."""

    product = ForeignKey(Product, index=True)
    position = Integer(default=0)
    option1 = Varchar(length=40, default="")
    option2 = Varchar(length=40, default="")
    sku = Varchar(length=64, index=True)
    price_vnd = BigInt()
    stock = Integer(default=0)
    weight_g = Integer(null=True, default=None)
    length_mm = Integer(null=True, default=None)
    width_mm = Integer(null=True, default=None)
    height_mm = Integer(null=True, default=None)
    image = ForeignKey(Image, null=True, default=None, on_delete=OnDelete.set_null)  # the photo may go, not the variant
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
