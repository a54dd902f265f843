"""Marketplace bindings: connected shops, listings (product × shop), orders and their sales facts.

These are the binding rows of the OCA-connector pattern: ``connectors`` knows nothing of them.
"""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.catalog.tables import Product
from ocop.producers.tables import Producer


class Shop(Table, tablename="shop"):
    """Tokens are stored encrypted (``*_enc``), never in clear."""

    producer = ForeignKey(Producer, index=True)
    marketplace = Varchar(length=16)  # shopee | lazada | tiktok | tiki
    external_shop_id = Varchar(length=64)
    name = Varchar(length=200, default="")
    access_token_enc = Text(default="")
    refresh_token_enc = Text(default="")
    access_expires_at = Timestamptz(null=True, default=None)
    refresh_expires_at = Timestamptz(null=True, default=None)
    status = Varchar(length=20, default="connected")  # connected | needs_reauth | disconnected
    orders_synced_until = Timestamptz(null=True, default=None)
    # The order history backfill (ocop.marketplace.sync.backfill_shop), newest first: begun at
    # ``history_started_at``, it reads back to ``history_from``; everything updated between
    # ``history_until`` and the start is read. Done when ``history_until`` reaches ``history_from``.
    history_started_at = Timestamptz(null=True, default=None)
    history_from = Timestamptz(null=True, default=None)
    history_until = Timestamptz(null=True, default=None)
    extra = JSON(default={})  # e.g. TikTok shop_cipher, Lazada country
    # When the seller's authorisation of our app ends, as the marketplace warned in a push (Shopee
    # sends it 7 days ahead, an authorisation lasts a year; Lazada 48 hours ahead): the producer
    # must authorise again before then.
    authorization_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Listing(Table, tablename="listing"):
    """``seller_sku`` is the key on the marketplace side: a retry after an unknown outcome looks
    it up and adopts the existing item instead of creating a second one."""

    product = ForeignKey(Product, index=True)
    shop = ForeignKey(Shop, index=True)
    seller_sku = Varchar(length=64)
    external_item_id = Varchar(length=64, default="")
    state = Varchar(length=16, default="draft", index=True)
    desired = Varchar(length=16, default="live")  # live | unlisted: what the pending work should achieve
    last_error = Text(default="")
    payload_hash = Varchar(length=64, default="")
    payload_version = Integer(default=0)
    pushed_hash = Varchar(length=64, default="")  # hash of the payload the marketplace last accepted
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)  # outbox: due for (re)dispatch
    lease_until = Timestamptz(null=True, default=None)  # a worker holds the listing until then
    image_map = JSON(default={})  # media key -> marketplace image id (uploaded once per shop)
    published_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    # The stock outbox (ocop.marketplace.stock): price and stock go out through the marketplace's
    # partial endpoint, never a whole re-push. ``stock_version`` is bumped whenever the listing
    # should be told a new number; a push acknowledges the version it read.
    stock_version = Integer(default=0)
    stock_pushed_version = Integer(default=0)
    stock_shown = Integer(null=True, default=None)  # what the marketplace shows, as far as we know
    price_shown = BigInt(null=True, default=None)
    stock_next_at = Timestamptz(null=True, default=None, index=True)  # due for a stock push
    stock_lease_until = Timestamptz(null=True, default=None)
    stock_attempts = Integer(default=0)
    stock_error = Text(default="")
    stock_pushed_at = Timestamptz(null=True, default=None)
    # Per variant (a product with variants is one item with a SKU per variant on the marketplace):
    # ``{seller SKU: [price, stock]}`` as the last acknowledged push left it (stock ``null`` when an
    # order there may have moved it since: unknown), and what the last read-back of the
    # marketplace found (``skus_read_at``). ``stock_shown``/``price_shown`` then hold the sum/min.
    skus_shown = JSON(default={})
    skus_read = JSON(default={})
    skus_read_at = Timestamptz(null=True, default=None)


class Order(Table, tablename="market_order"):
    """One marketplace order; re-reading a sync window upserts by (shop, marketplace_order_id)."""

    shop = ForeignKey(Shop, index=True)
    marketplace_order_id = Varchar(length=64)
    status = Varchar(length=24, index=True)  # pending | paid | shipped | completed | cancelled | returned
    total_vnd = BigInt(default=0)
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
    buyer_province = Varchar(length=120, default="")
    tracking_number = Varchar(length=64, default="")  # the carrier's, once the marketplace has one


class OrderLine(Table, tablename="market_order_line"):
    order = ForeignKey(Order, index=True)
    listing = ForeignKey(Listing, null=True, default=None, index=True)
    seller_sku = Varchar(length=64, default="")
    external_item_id = Varchar(length=64, default="")
    name = Varchar(length=255, default="")
    quantity = Integer(default=1)
    unit_price_vnd = BigInt(default=0)
    total_vnd = BigInt(default=0)


class SalesFact(Table, tablename="sales_fact"):
    """The sales fact behind the dashboard: one row per order and listing (lines of one listing in
    one order folded together), with the Vietnamese calendar day and month and the status class
    precomputed at ingest, and the order's *rank* of this listing (1 = its first listing, by line
    order) plus the product of its first listing. Rank and first product let the dashboard count
    distinct orders per OCOP group or star rank exactly without re-reading the order's other lines
    (see :mod:`ocop.marketplace.sales_facts`). Written only by ``ocop.marketplace.sync.ingest_orders``, in the
    transaction that writes the order, so it cannot drift from ``market_order_line``.

    ``shop``, ``listing`` and ``product`` are copies (no foreign keys): a listing's product and an
    order's shop never change. Product attributes that can change (OCOP group, stars) are NOT copied;
    the report joins them at query time.
    """

    order = ForeignKey(Order, index=True)
    shop = Integer()
    listing = Integer(null=True, default=None)
    product = Integer(null=True, default=None)
    day = Date()
    month = Integer()  # yyyymm of ``day``
    status_class = Integer()  # 0 sold, 1 cancelled, 2 returned
    rank = Integer(default=1)
    first_product = Integer(null=True, default=None)
    units = Integer(default=0)
    revenue_vnd = BigInt(default=0)


class ListingEvent(Table, tablename="listing_event"):
    """Every state transition of a listing, with who or what caused it."""

    listing = ForeignKey(Listing, index=True)
    from_state = Varchar(length=16)
    to_state = Varchar(length=16)
    reason = Text(default="")
    cause = Varchar(length=120, default="")  # "user:12", "job:publish_listing", "sync:status"
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SyncRun(Table, tablename="sync_run"):
    """What each scheduled run did (shown on the sync page): kind, shop, counts, errors."""

    kind = Varchar(length=32, index=True)  # orders | status | tokens
    shop = ForeignKey(Shop, null=True, default=None, index=True)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    ok = Boolean(default=True)
    counts = JSON(default={})
    error = Text(default="")


class StockHold(Table, tablename="stock_hold"):
    """The stock ledger: units of one product that one marketplace order line holds, one row per
    (shop, marketplace order id, line seller SKU), rewritten on every ingest of that order, so
    re-reading an order never counts it twice. ``units`` is what the line holds now (0 once it is
    cancelled); ``settled`` is the part of it already in the producer's own count, as of their
    last stock edit. Available = ``Product.stock`` − Σ(``units`` − ``settled``)
    (:mod:`ocop.marketplace.stock`)."""

    shop = ForeignKey(Shop)  # the unique (shop, marketplace_order_id, seller_sku) index serves it
    marketplace_order_id = Varchar(length=64)
    seller_sku = Varchar(length=64)
    product = ForeignKey(Product, index=True)
    listing = Integer(null=True, default=None)
    quantity = Integer(default=0)
    units = Integer(default=0)
    settled = Integer(default=0)
    shipped = Boolean(default=False)  # seen shipped once: a later return does not give back
    status = Varchar(length=24, default="")
    raw_status = Varchar(length=40, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PushEvent(Table, tablename="push_event"):
    """A push (webhook) a marketplace sent us, stored as received before it is acknowledged, then
    handled by a job (``ocop.marketplace.pushes``). ``dedupe_key`` is unique: a repeat of the same
    event (marketplaces push at least once) is stored once and handled once. ``event_at`` is the
    marketplace's own time of the change, which keeps an event that arrives late from undoing a
    newer one."""

    marketplace = Varchar(length=16)
    app_key = Varchar(length=64, default="")
    shop_external_id = Varchar(length=64, default="", index=True)
    kind = Varchar(length=24)  # order | tracking | item | deauthorized | auth_expiry | other
    code = Varchar(length=32, default="")  # the marketplace's own event code or type
    object_id = Varchar(length=64, default="")  # order id or item id the event is about
    event_at = Timestamptz(null=True, default=None)
    dedupe_key = Varchar(length=200, unique=True)
    received_at = Timestamptz(default=TimestamptzNow(), index=True)
    detail = Varchar(length=200, default="")  # what the push claims besides: tracking number, expiry time
    payload = Text(default="")  # the raw body as received (UTF-8)
    status = Varchar(length=16, default="queued", index=True)  # queued | done | stale | ignored | failed
    attempts = Integer(default=0)
    handled_at = Timestamptz(null=True, default=None)
    error = Text(default="")
