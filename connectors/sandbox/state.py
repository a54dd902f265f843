"""In-memory state shared by the four marketplace emulations.

Everything marketplace-neutral lives here (apps, shops, authorization codes,
tokens with lifetimes and rotating refresh tokens, items with a review queue,
uploaded images, orders with a status timeline); each marketplace module only
translates its protocol to and from these records. A single lock is enough: the
sandbox runs on one event loop and no method awaits while holding state.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.config import FAULT_KINDS, FaultConfig, SandboxConfig, SandboxShopConfig

# Neutral order statuses; each marketplace maps them to its own words.
UNPAID, READY, SHIPPED, DELIVERED, COMPLETED, CANCELLED, RETURNED = (
    "unpaid", "ready_to_ship", "shipped", "delivered", "completed", "cancelled", "returned",
)

# Words marketplaces refuse in food/herbal listings (health claims, superlatives);
# Vietnamese Decree 15/2018 and marketplace prohibited-content rules forbid
# claims that a food cures disease.
PROHIBITED_WORDS = ("chữa bệnh", "trị bệnh", "chữa khỏi", "thần dược", "tốt nhất", "số 1", "cure")

REJECTION_REASONS = (
    "Missing OCOP certificate image: upload a photo of the certificate decision",
    "Main image contains watermark or promotional text",
    "Category mismatch: the product does not belong to the selected category",
    "Product name contains information not related to the product",
    "Food product lacks shelf life and manufacturer information",
)

# Demo catalogue used for orders when a shop has no live item (reference/domain.md).
DEMO_CATALOGUE = (
    ("DEMO-RUOU-BAUDA", "Rượu Bàu Đá chai 500 ml", 180_000),
    ("DEMO-BANHTRANG", "Bánh tráng nước dừa Tam Quan gói", 45_000),
    ("DEMO-NUOCMAM", "Nước mắm Gò Bồi chai 500 ml", 95_000),
    ("DEMO-HATDIEU", "Hạt điều rang muối hũ 500 g", 165_000),
    ("DEMO-TIEU", "Hồ tiêu Chư Sê hũ 200 g", 70_000),
)


@dataclass
class TokenRecord:
    marketplace: str
    app_key: str
    shop_id: str
    expires_at: float


@dataclass
class RefreshRecord:
    marketplace: str
    app_key: str
    shop_id: str
    expires_at: float
    used: bool = False
    used_at: float = 0.0
    successor: tuple[str, str] | None = None  # the (access, refresh) pair this token was exchanged for


@dataclass
class CodeRecord:
    marketplace: str
    app_key: str
    shop_id: str
    expires_at: float
    used: bool = False


@dataclass
class ImageRecord:
    image_id: str
    url: str
    size: int
    sha256: str


@dataclass
class Model:
    """One variant of an item (a Shopee model, a Lazada/TikTok/Tiki SKU): its own seller SKU,
    price and the stock this marketplace shows for it."""

    model_id: int
    seller_sku: str
    options: tuple[str, ...]
    price_vnd: int
    stock: int
    image: str = ""


@dataclass(frozen=True)
class VariantLimits:
    """What a marketplace accepts of an item's variation (the numbers are each module's own)."""

    max_tiers: int
    max_options: int
    max_models: int


class VariantRefused(ValueError):
    """A variation the marketplace refuses; ``kind`` tells which rule (each module maps it to its
    own error code and message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def check_variation(tiers: list[tuple[str, list[str]]], models: list[Model], limits: VariantLimits,
                    other_skus: Collection[str] = ()) -> None:
    """Refuse what marketplaces refuse: too many attributes, options or variants, an attribute
    without a name or options, a variant missing an option value or naming an unknown one, two
    variants of the same combination, seller SKUs used twice (within the item, or by
    ``other_skus``: SKUs of the shop's other items where the marketplace wants them unique)."""
    if len(tiers) > limits.max_tiers:
        raise VariantRefused("too_many_tiers", f"At most {limits.max_tiers} variation attributes, got {len(tiers)}.")
    for name, options in tiers:
        if not name.strip():
            raise VariantRefused("missing_value", "A variation attribute has no name.")
        if not options or any(not o.strip() for o in options):
            raise VariantRefused("missing_value", f"Variation {name!r} has an empty option.")
        if len(options) > limits.max_options:
            raise VariantRefused("too_many_options",
                                 f"Variation {name!r} has {len(options)} options, at most {limits.max_options}.")
        if len(set(options)) != len(options):
            raise VariantRefused("duplicate_option", f"Variation {name!r} lists an option twice.")
    if len(models) > limits.max_models:
        raise VariantRefused("too_many_models", f"At most {limits.max_models} variants, got {len(models)}.")
    seen_combos: set[tuple[str, ...]] = set()
    seen_skus: set[str] = set()
    for model in models:
        if len(model.options) != len(tiers) or any(not o for o in model.options):
            raise VariantRefused("missing_value", f"SKU {model.seller_sku!r} lacks a value for every variation.")
        for (name, options), value in zip(tiers, model.options):
            if value not in options:
                raise VariantRefused("unknown_option", f"SKU {model.seller_sku!r}: {value!r} is not an option of {name!r}.")
        if model.options in seen_combos:
            raise VariantRefused("duplicate_combination", f"Two variants share the options {list(model.options)}.")
        seen_combos.add(model.options)
        if not model.seller_sku:
            raise VariantRefused("missing_value", "A variant has no seller SKU.")
        if model.seller_sku in seen_skus or model.seller_sku in other_skus:
            raise VariantRefused("duplicate_sku", f"Seller SKU {model.seller_sku!r} is used twice.")
        seen_skus.add(model.seller_sku)
        if model.price_vnd <= 0 or model.stock < 0:
            raise VariantRefused("bad_number", f"SKU {model.seller_sku!r} needs a positive price and stock ≥ 0.")


@dataclass
class Item:
    marketplace: str
    shop_id: str
    item_id: int
    seller_sku: str
    name: str
    description: str
    price_vnd: int
    stock: int
    weight_g: int
    dims_cm: tuple[int, int, int]
    category_id: str
    brand: str
    images: list[str]
    attributes: dict[str, str]
    status: str  # reviewing | live | rejected | banned | unlisted | deleted
    reason: str | None
    created_at: float
    updated_at: float
    review_at: float
    review_outcome: str | None  # None → live, else rejection reason
    raw: dict[str, object] = field(default_factory=dict)
    tiers: list[tuple[str, list[str]]] = field(default_factory=list)
    models: dict[int, Model] = field(default_factory=dict)  # model id -> model; empty: one SKU

    def set_variation(self, tiers: list[tuple[str, list[str]]], models: list[Model]) -> None:
        """Replace the variation (already checked); the item's stock is the sum of its models'."""
        self.tiers = [(name, list(options)) for name, options in tiers]
        self.models = {m.model_id: m for m in models}
        self.sync_totals()

    def sync_totals(self) -> None:
        if self.models:
            self.stock = sum(m.stock for m in self.models.values())
            self.price_vnd = min(m.price_vnd for m in self.models.values())

    def model_by_sku(self, seller_sku: str) -> Model | None:
        return next((m for m in self.models.values() if m.seller_sku == seller_sku), None)

    def skus(self) -> list[str]:
        return [m.seller_sku for m in self.models.values()] if self.models else [self.seller_sku]

    def take(self, model: Model | None, quantity: int) -> None:
        """An order takes ``quantity`` units of this SKU (checked by the caller)."""
        if model is not None:
            model.stock -= quantity
            self.sync_totals()
        else:
            self.stock -= quantity

    def give_back(self, model_id: int, quantity: int) -> None:
        model = self.models.get(model_id)
        if model is not None:
            model.stock += quantity
            self.sync_totals()
        elif not self.models:
            self.stock += quantity


@dataclass
class OrderLineRec:
    item_id: int
    seller_sku: str
    name: str
    quantity: int
    unit_price_vnd: int
    model_id: int = 0  # the variant bought (0: an item without variants)
    model_name: str = ""  # its option values, as the marketplace names the variant on the order


@dataclass
class Order:
    marketplace: str
    shop_id: str
    order_id: str
    created_at: float
    lines: list[OrderLineRec]
    shipping_fee_vnd: int
    timeline: list[tuple[float, str]]

    def status_at(self, now: float) -> str:
        current = self.timeline[0][1]
        for t, s in self.timeline:
            if t <= now:
                current = s
        return current

    def updated_at(self, now: float) -> float:
        last = self.timeline[0][0]
        for t, _ in self.timeline:
            if t <= now:
                last = t
        return last

    @property
    def total_vnd(self) -> int:
        return sum(l.quantity * l.unit_price_vnd for l in self.lines) + self.shipping_fee_vnd


class AuthResult:
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"


class SandboxState:
    """The sandbox's world. Marketplace modules call these methods; tests inspect them."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        self.apps = {(a.marketplace, a.app_key): a for a in config.apps}
        self.shops: dict[tuple[str, str], SandboxShopConfig] = {
            (s.marketplace, s.shop_id): s for s in config.shops
        }
        self.codes: dict[str, CodeRecord] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.images: dict[tuple[str, str], ImageRecord] = {}
        self.items: dict[tuple[str, str], dict[int, Item]] = {}
        self.orders: dict[tuple[str, str], dict[str, Order]] = {}
        self.generated_until: dict[tuple[str, str], float] = {}
        self.faults: dict[str, FaultConfig] = dict(config.faults)
        self._ids = itertools.count(int(self.clock()) % 1_000_000 * 1000 + 1)
        self.request_log: list[tuple[str, str, str]] = []  # (marketplace, method, path) of API calls
        self._quota_tat: dict[tuple[str, ...], float] = {}
        # Cancellations due to give their units back to the item's stock: (when, marketplace, shop, order id).
        self._restocks: list[tuple[float, str, str, str]] = []
        self._restocked: set[tuple[str, str, str]] = set()
        # Shops that authorised an app and have not revoked it (pushes go to those), and orders
        # changed outside their timeline (a cancellation), for the pusher to look at.
        self.authorized: set[tuple[str, str]] = set()
        self.touched_orders: list[tuple[str, str, str]] = []
        self.pusher: Any = None  # the app's connectors.sandbox.push.Pusher, once an app serves this world

    # ------------------------------------------------------------------ ids and apps

    def next_id(self) -> int:
        return next(self._ids)

    def app_secret(self, marketplace: str, app_key: str) -> str | None:
        app = self.apps.get((marketplace, app_key))
        return app.app_secret if app else None

    def shop(self, marketplace: str, shop_id: str) -> SandboxShopConfig | None:
        return self.shops.get((marketplace, shop_id))

    # ------------------------------------------------------------------ authorization

    def issue_code(self, marketplace: str, app_key: str, shop_id: str) -> str:
        with self.lock:
            code = secrets.token_hex(16)
            self.codes[code] = CodeRecord(
                marketplace, app_key, shop_id, self.clock() + self.config.code_ttl_s
            )
            return code

    def redeem_code(self, marketplace: str, app_key: str, code: str) -> CodeRecord | None:
        """A code is single-use, bound to the app that asked, and short-lived."""
        with self.lock:
            rec = self.codes.get(code)
            if (
                rec is None
                or rec.used
                or rec.marketplace != marketplace
                or rec.app_key != app_key
                or rec.expires_at < self.clock()
            ):
                return None
            rec.used = True
            return rec

    def issue_tokens(self, marketplace: str, app_key: str, shop_id: str) -> tuple[str, str]:
        with self.lock:
            access = secrets.token_hex(16)
            refresh = secrets.token_hex(16)
            now = self.clock()
            self.tokens[access] = TokenRecord(
                marketplace, app_key, shop_id, now + self.config.access_token_ttl_s
            )
            self.refresh_tokens[refresh] = RefreshRecord(
                marketplace, app_key, shop_id, now + self.config.refresh_token_ttl_s
            )
            self.authorized.add((marketplace, shop_id))
            return access, refresh

    def deauthorize(self, marketplace: str, shop_id: str) -> bool:
        """The seller cancels the app's authorisation: every token of the shop stops working at once
        (access and refresh), as on the marketplaces. False when the shop had not authorised."""
        with self.lock:
            for table in (self.tokens, self.refresh_tokens):
                for token in [t for t, rec in table.items() if (rec.marketplace, rec.shop_id) == (marketplace, shop_id)]:
                    del table[token]
            if (marketplace, shop_id) not in self.authorized:
                return False
            self.authorized.discard((marketplace, shop_id))
            return True

    def rotate_refresh(self, marketplace: str, app_key: str, refresh: str) -> tuple[str, str, str] | None:
        """Exchange a refresh token for a new pair; the old refresh token stops working.

        With ``refresh_reuse_grace_s`` > 0, presenting the old token again within that window,
        while its successor pair is still unused, answers the same pair again: the "reuse
        interval" of OAuth 2 refresh-token rotation (RFC 9700 §4.14.2 discusses it), which is
        what lets a client whose refresh answer was lost (timeout after the write) recover.
        Whether each real marketplace grants such a window is unverified; 0 (strict) is the default.
        """
        with self.lock:
            rec = self.refresh_tokens.get(refresh)
            if rec is None or rec.marketplace != marketplace or rec.app_key != app_key:
                return None
            now = self.clock()
            if rec.used:
                grace = self.config.refresh_reuse_grace_s
                if rec.successor and grace > 0 and now - rec.used_at <= grace:
                    access, new_refresh = rec.successor
                    fresh = self.refresh_tokens.get(new_refresh)
                    if fresh is not None and not fresh.used:
                        return access, new_refresh, rec.shop_id
                return None
            if rec.expires_at < now:
                return None
            rec.used, rec.used_at = True, now
            access, new_refresh = self.issue_tokens(marketplace, app_key, rec.shop_id)
            rec.successor = (access, new_refresh)
            return access, new_refresh, rec.shop_id

    def check_access(
        self, marketplace: str, app_key: str, token: str, *, force_expire: bool = False
    ) -> tuple[str, TokenRecord | None]:
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None or rec.marketplace != marketplace or rec.app_key != app_key:
                return AuthResult.INVALID, None
            if force_expire:
                rec.expires_at = min(rec.expires_at, self.clock() - 1)
            if rec.expires_at < self.clock():
                return AuthResult.EXPIRED, rec
            return AuthResult.OK, rec

    # ------------------------------------------------------------------ images

    def store_image(self, marketplace: str, data: bytes, base_url: str) -> ImageRecord:
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            image_id = f"{marketplace[:2]}-{digest[:24]}"
            rec = ImageRecord(image_id, f"{base_url}/_media/{image_id}.jpg", len(data), digest)
            self.images[(marketplace, image_id)] = rec
            return rec

    # ------------------------------------------------------------------ items and review

    def shop_items(self, marketplace: str, shop_id: str) -> dict[int, Item]:
        return self.items.setdefault((marketplace, shop_id), {})

    def create_item(self, marketplace: str, shop_id: str, **fields: object) -> Item:
        with self.lock:
            now = self.clock()
            item = Item(
                marketplace=marketplace,
                shop_id=shop_id,
                item_id=self.next_id(),
                status="reviewing",
                reason=None,
                created_at=now,
                updated_at=now,
                review_at=now + self.config.review_seconds,
                review_outcome=None,
                **fields,  # type: ignore[arg-type]
            )
            item.review_outcome = self._review_decision(item)
            self.shop_items(marketplace, shop_id)[item.item_id] = item
            return item

    def resubmit(self, item: Item) -> None:
        """An edit sends the item through review again (all four marketplaces re-audit edits)."""
        with self.lock:
            now = self.clock()
            item.updated_at = now
            if item.status in ("rejected", "reviewing", "live"):
                item.status = "reviewing"
                item.reason = None
                item.review_at = now + self.config.review_seconds
                item.review_outcome = self._review_decision(item)

    def _review_decision(self, item: Item) -> str | None:
        text = f"{item.name}\n{item.description}".lower()
        for word in PROHIBITED_WORDS:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
                return f"Prohibited word in title or description: '{word}'"
        if self.rng.random() < self.config.rejection_share:
            return self.rng.choice(REJECTION_REASONS)
        return None

    def settle(self, item: Item) -> Item:
        """Apply a finished review (lazily, when someone looks)."""
        with self.lock:
            if item.status == "reviewing" and self.clock() >= item.review_at:
                if item.review_outcome is None:
                    item.status = "live"
                else:
                    item.status, item.reason = "rejected", item.review_outcome
                item.updated_at = item.review_at
            return item

    def find_item(self, marketplace: str, shop_id: str, item_id: int) -> Item | None:
        self.apply_restocks()
        item = self.shop_items(marketplace, shop_id).get(item_id)
        return self.settle(item) if item else None

    def items_by_sku(self, marketplace: str, shop_id: str, sku: str) -> list[Item]:
        """Items whose own seller SKU, or one of whose variants' SKUs, is ``sku``."""
        self.apply_restocks()
        return [
            self.settle(i)
            for i in self.shop_items(marketplace, shop_id).values()
            if (i.seller_sku == sku or i.model_by_sku(sku) is not None) and i.status != "deleted"
        ]

    def shop_skus(self, marketplace: str, shop_id: str, *, besides: int = 0) -> set[str]:
        """Seller SKUs of the shop's items (other than item ``besides``): for marketplaces that want
        a seller SKU unique in the shop."""
        return {sku for i in self.shop_items(marketplace, shop_id).values()
                if i.item_id != besides and i.status != "deleted" for sku in i.skus()}

    def new_model(self, seller_sku: str, options: tuple[str, ...], price_vnd: int, stock: int, image: str = "") -> Model:
        return Model(self.next_id(), seller_sku, tuple(options), int(price_vnd), int(stock), image)

    # ------------------------------------------------------------------ orders

    def shop_orders(self, marketplace: str, shop_id: str) -> dict[str, Order]:
        """All orders of a shop, generating the ones due since the last look."""
        key = (marketplace, shop_id)
        with self.lock:
            self.apply_restocks()
            now = self.clock()
            start = self.generated_until.get(key, now - self.config.order_history_hours * 3600)
            rate = self.config.orders_per_hour / 3600.0
            t = start
            while rate > 0:
                t += self.rng.expovariate(rate)
                if t > now:
                    break
                self._make_order(marketplace, shop_id, t)
            self.generated_until[key] = now
            return self.orders.setdefault(key, {})

    def generate_orders(
        self, marketplace: str, shop_id: str, count: int, since: float, until: float,
        status: str | None = None,
    ) -> list[Order]:
        """Orders spread evenly over ``[since, until)`` (admin endpoint, tests). Like buyers, the
        generator takes only what the items' stock allows: fewer orders come back (none at all)
        when the shop's live items run out."""
        self.shop_orders(marketplace, shop_id)
        with self.lock:
            step = (until - since) / max(count, 1)
            made = [self._make_order(marketplace, shop_id, since + i * step, status) for i in range(count)]
            return [order for order in made if order is not None]

    def _make_order(self, marketplace: str, shop_id: str, created: float, status: str | None = None) -> Order | None:
        """A buyer's order on the shop's live items, within the stock each shows (the order lowers
        it; ``None`` when every live item is sold out). A shop with no live item at all sells the
        demo catalogue, which has no stock."""
        rng = self.rng
        live = [i for i in self.shop_items(marketplace, shop_id).values() if i.status == "live"]
        if live:
            # What a buyer can pick: an item without variants, or one variant of an item, in stock.
            in_stock: list[tuple[Item, Model | None]] = []
            for i in live:
                if i.models:
                    in_stock += [(i, m) for m in i.models.values() if m.stock > 0]
                elif i.stock > 0:
                    in_stock.append((i, None))
            if not in_stock:
                return None
            picks_items = rng.sample(in_stock, k=min(len(in_stock), rng.randint(1, 3)))
            lines = [self._line(item, model, rng.randint(1, 4)) for item, model in picks_items]
        else:
            catalogue = [(100 + n, sku, name, price) for n, (sku, name, price) in enumerate(DEMO_CATALOGUE)]
            picks = rng.sample(catalogue, k=min(len(catalogue), rng.randint(1, 3)))
            lines = [OrderLineRec(iid, sku, name, rng.randint(1, 4), price) for iid, sku, name, price in picks]
        if status is not None:
            # Forced status (admin endpoint): it holds from creation + a few seconds.
            path = [UNPAID, CANCELLED] if status == CANCELLED else [UNPAID, READY, SHIPPED, DELIVERED, status]
            path = path[: path.index(status) + 1]
            timeline = [(created + i, s) for i, s in enumerate(path)]
        else:
            fate = rng.choices([COMPLETED, CANCELLED, RETURNED], weights=[85, 10, 5])[0]
            if fate == CANCELLED:
                timeline = [(created, UNPAID), (created + 1800, CANCELLED)]
            else:
                timeline = [
                    (created, UNPAID), (created + 600, READY), (created + 86400, SHIPPED),
                    (created + 3 * 86400, DELIVERED), (created + 6 * 86400, fate),
                ]
        return self._store_order(marketplace, shop_id, created, lines, rng.choice((0, 15_000, 22_000, 30_000)),
                                 timeline)

    def _store_order(self, marketplace: str, shop_id: str, created: float, lines: list[OrderLineRec],
                     shipping_fee_vnd: int, timeline: list[tuple[float, str]]) -> Order:
        order_id = f"{time.strftime('%y%m%d', time.gmtime(created))}{self.next_id():010d}"
        order = Order(marketplace, shop_id, order_id, created, lines, shipping_fee_vnd, timeline)
        self.orders.setdefault((marketplace, shop_id), {})[order_id] = order
        for at, status in timeline:
            if status == CANCELLED:
                heapq.heappush(self._restocks, (at, marketplace, shop_id, order_id))
        return order

    # ------------------------------------------------------------------ stock, as a marketplace keeps it

    @staticmethod
    def _line(item: Item, model: Model | None, wanted: int) -> OrderLineRec:
        """An order line of up to ``wanted`` units of this SKU, taken from the stock it shows."""
        shown = model.stock if model is not None else item.stock
        quantity = min(wanted, shown)
        item.take(model, quantity)
        if model is None:
            return OrderLineRec(item.item_id, item.seller_sku, item.name, quantity, item.price_vnd)
        return OrderLineRec(item.item_id, model.seller_sku, item.name, quantity, model.price_vnd,
                            model.model_id, ",".join(model.options))

    def place_order(self, marketplace: str, shop_id: str, seller_sku: str, quantity: int = 1) -> Order | None:
        """A buyer orders ``quantity`` of the live item (or variant) with this seller SKU, now.
        Refused (``None``) when it is not on sale or shows less stock than asked: a marketplace
        accepts no order beyond the stock it shows. Accepted, the order lowers that stock at once."""
        with self.lock:
            self.apply_restocks()
            item = next((i for i in self.items_by_sku(marketplace, shop_id, seller_sku) if i.status == "live"), None)
            if item is None or quantity < 1:
                return None
            model = item.model_by_sku(seller_sku)
            if item.models and model is None:  # the item's own SKU is not a variant one can buy
                return None
            if (model.stock if model is not None else item.stock) < quantity:
                return None
            now = self.clock()
            line = self._line(item, model, quantity)
            return self._store_order(marketplace, shop_id, now, [line], 0, [(now, UNPAID)])

    def cancel_order(self, marketplace: str, shop_id: str, order_id: str) -> bool:
        """The buyer (or the marketplace) cancels an order that has not been shipped: its units go
        back to the items' stock. False when the order is unknown or already on its way."""
        with self.lock:
            order = self.orders.get((marketplace, shop_id), {}).get(order_id)
            now = self.clock()
            if order is None or order.status_at(now) not in (UNPAID, READY):
                return False
            order.timeline = [(t, s) for t, s in order.timeline if t <= now] + [(now, CANCELLED)]
            self.touched_orders.append((marketplace, shop_id, order_id))
            heapq.heappush(self._restocks, (now, marketplace, shop_id, order_id))
            self.apply_restocks()
            return True

    def apply_restocks(self) -> None:
        """Give the units of cancellations now due back to their items (lazily, like reviews):
        marketplaces restore the stock of a cancelled order themselves."""
        with self.lock:
            now = self.clock()
            while self._restocks and self._restocks[0][0] <= now:
                _, marketplace, shop_id, order_id = heapq.heappop(self._restocks)
                order = self.orders.get((marketplace, shop_id), {}).get(order_id)
                key = (marketplace, shop_id, order_id)
                if order is None or order.status_at(now) != CANCELLED or key in self._restocked:
                    continue
                self._restocked.add(key)
                items = self.shop_items(marketplace, shop_id)
                for line in order.lines:
                    item = items.get(line.item_id)
                    if item is not None:
                        item.give_back(line.model_id, line.quantity)

    # ------------------------------------------------------------------ faults

    def fault_config(self, marketplace: str) -> FaultConfig:
        return self.faults.get(marketplace) or self.faults.get("*") or FaultConfig()

    def roll_fault(self, marketplace: str, *, is_write: bool, has_token: bool) -> str | None:
        """Pick the fault for one API request, forced ones first."""
        with self.lock:
            for key in (marketplace, "*"):
                cfg = self.faults.get(key)
                if cfg and cfg.next:
                    kind = cfg.next[0]
                    if kind == "timeout_after_write" and not is_write:
                        continue
                    if kind == "expired_token" and not has_token:
                        continue
                    cfg.next.pop(0)
                    return kind
            cfg = self.fault_config(marketplace)
            draws = (
                ("429", cfg.p_429),
                ("5xx", cfg.p_5xx),
                ("drop", cfg.p_drop),
                ("expired_token", cfg.p_expired_token if has_token else 0.0),
                ("timeout_after_write", cfg.p_timeout_after_write if is_write else 0.0),
            )
            for kind, p in draws:
                if p > 0 and self.rng.random() < p:
                    return kind
            return None

    def set_faults(self, marketplace: str, cfg: FaultConfig) -> None:
        for kind in cfg.next:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self.lock:
            self.faults[marketplace] = cfg

    # ------------------------------------------------------------------ quotas

    def take_quota(self, marketplace: str, app_key: str, shop_id: str | None) -> float:
        """Per-app and per-shop call quotas (GCRA, no burst beyond one second's worth).

        Returns 0 when the call may proceed, else the seconds until it may
        (the ``Retry-After`` the marketplace module answers with).
        """
        limits = [((marketplace, "app", app_key), self.config.app_calls_per_s)]
        if shop_id:
            limits.append(((marketplace, "shop", app_key, shop_id), self.config.shop_calls_per_s))
        with self.lock:
            now = self.clock()
            wait = 0.0
            updates = []
            for key, rate in limits:
                if rate <= 0:
                    continue
                interval = 1.0 / rate
                tat = max(self._quota_tat.get(key, now), now)
                allow_at = tat - max(rate, 1.0) * interval + interval  # one second's worth of calls
                wait = max(wait, allow_at - now)
                updates.append((key, tat + interval))
            if wait > 0:
                return wait
            for key, tat in updates:
                self._quota_tat[key] = tat
            return 0.0

    # ------------------------------------------------------------------ inspection

    def inspection(self) -> dict[str, dict[str, dict[str, list[dict[str, object]]]]]:
        """``{marketplace: {shop_id: {seller_sku: [item...]}}}`` — tests count duplicates here."""
        out: dict[str, dict[str, dict[str, list[dict[str, object]]]]] = {}
        with self.lock:
            self.apply_restocks()
            for (mkt, shop_id), items in self.items.items():
                by_sku = out.setdefault(mkt, {}).setdefault(shop_id, {})
                for item in items.values():
                    self.settle(item)
                    by_sku.setdefault(item.seller_sku, []).append(
                        {
                            "item_id": item.item_id,
                            "name": item.name,
                            "status": item.status,
                            "reason": item.reason,
                            "price_vnd": item.price_vnd,
                            "stock": item.stock,
                            "variation": [{"name": n, "options": list(o)} for n, o in item.tiers],
                            "models": [{"model_id": m.model_id, "seller_sku": m.seller_sku,
                                        "options": list(m.options), "price_vnd": m.price_vnd, "stock": m.stock}
                                       for m in item.models.values()],
                        }
                    )
        return out
