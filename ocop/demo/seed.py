"""Seed a realistic demo catalogue: Gia Lai (incl. the former Bình Định) OCOP producers, products,
certificates, and the demo logins. Idempotent: a producer that exists (by tax code) is skipped."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import msgspec
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from ocop.accounts.services import NewUser, create_user
from ocop.accounts.tables import User
from media.store import Store
from ocop.catalog.jobs import normalize_image_row
from ocop.catalog.tables import Certificate, Image, Product
from ocop.catalog.variant_store import write_variants
from ocop.catalog.variants import VariantInput, check_variation, normalise_variation, rollup, variation_json
from ocop.demo.photos import product_photo
from ocop.domain.text import fold
from ocop.producers.tables import Producer

DEMO_PASSWORD = "ocop-demo-2026"
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
PROVINCE_GIA_LAI = 52


@dataclass
class SeedReport:
    producers: int = 0
    products: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, role)


def tax_code(serial9: str) -> str:
    """Complete a 9-digit body with the Vietnamese tax-code check digit (10 - sum mod 11)."""
    check = 10 - sum(int(d) * w for d, w in zip(serial9, TAX_WEIGHTS, strict=True)) % 11
    if check == 10:
        raise ValueError(f"{serial9} has no valid check digit; pick another serial")
    return f"{serial9}{check % 10}"


def commune_code(name: str, province: int = PROVINCE_GIA_LAI) -> int:
    from vietnam_provinces import Ward

    for ward in Ward.iter_all():
        if int(ward.province_code) == province and ward.name == name:
            return int(ward.code)
    raise LookupError(f"no commune {name!r} in province {province}")


def load_catalog() -> dict[str, Any]:
    return json.loads(resources.files("ocop.demo").joinpath("catalog.json").read_text(encoding="utf-8"))


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def seed(today: date | None = None, *, store: Store | None = None) -> SeedReport:
    """``store``: where demo photos go (they are normalized right away); None = no photos."""
    today = today or date.today()
    catalog = load_catalog()
    report = SeedReport()
    images: list[int] = []
    engine = Producer._meta.db
    kwargs = {"transaction_type": TransactionType.immediate} if isinstance(engine, SQLiteEngine) else {}
    async with engine.transaction(**kwargs):
        for index, spec in enumerate(catalog["producers"]):
            code = tax_code(spec["tax_serial"])
            if await Producer.exists().where(Producer.tax_code == code):
                continue
            producer = Producer(kind=spec["kind"], legal_name=spec["legal_name"], name_folded=fold(spec["legal_name"]),
                                tax_code=code, phone=spec["phone"], representative=spec["representative"],
                                province_code=PROVINCE_GIA_LAI, commune_code=commune_code(spec["commune"]),
                                legacy_district=spec.get("legacy_district", ""))
            await producer.save()
            report.producers += 1
            for p_index, item in enumerate(spec["products"]):
                length, width, height = item["dims_mm"]
                product = Product(producer=producer.id, sku=item["sku"], name=item["name"], name_folded=fold(item["name"]),
                                  ocop_group=item["group"], description=item["description"], unit=item["unit"],
                                  net_quantity=item["net_quantity"], weight_g=item["weight_g"], length_mm=length,
                                  width_mm=width, height_mm=height, price_vnd=item["price_vnd"], stock=item["stock"],
                                  shelf_life_days=item["shelf_life_days"], status="active")
                await product.save()
                if item.get("variants"):  # a product sold in sizes and packs, like most OCOP goods
                    await _add_variants(product, item)
                if store is not None:
                    photo = product_photo(item["name"], item["unit"], item["group"])
                    image = Image(product=product.id, position=0, original_key=await store.put(photo, "image/jpeg"),
                                  original_name=f"{item['sku'].lower()}.jpg", status="pending")
                    await image.save()
                    images.append(int(image.id))
                # Stagger issue dates so the dashboard has certificates expiring soon, too.
                issued = today - timedelta(days=200 + 260 * ((index + p_index) % 4))
                await Certificate(product=product.id, stars=item["stars"], decision_number=item["decision"],
                                  issuing_body="Ủy ban nhân dân tỉnh Gia Lai" if item["stars"] < 5 else
                                  "Bộ Nông nghiệp và Môi trường",
                                  issued_on=issued, expires_on=_add_months(issued, 36)).save()
                report.products += 1
    for image_id in images:  # after the transaction: normalization is slow and needs no lock
        await normalize_image_row(store, image_id)  # type: ignore[arg-type]
    for username, role, extra in _logins(catalog):
        if await User.exists().where(User.username == username):
            continue
        await create_user(NewUser(username=username, password=DEMO_PASSWORD, role=role, **extra))
        report.logins.append((username, role))
    report.logins += await add_producer_logins()
    return report


async def _add_variants(product: Product, item: dict[str, Any]) -> None:
    """The catalogue's variants, checked by the same rule as the form (a demo that breaks it fails
    loudly), with the product's own price and stock rolled up from them."""
    attributes = normalise_variation(item["variation"])
    variants = [msgspec.convert(v, VariantInput) for v in item["variants"]]
    errors = check_variation(attributes, variants)
    if errors:
        raise ValueError(f"demo catalogue: {item['sku']}: {errors}")
    await write_variants(int(product.id), variants)
    totals = rollup(variants)
    await Product.update({Product.variation: variation_json(attributes), Product.price_vnd: totals.price_vnd,
                          Product.stock: totals.stock}).where(Product.id == product.id)


def _logins(catalog: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    logins: list[tuple[str, str, dict[str, Any]]] = [("admin", "admin", {"display_name": "Quản trị hệ thống"})]
    for staff in catalog["staff"]:
        logins.append((staff["username"], "staff", {
            "display_name": staff["display_name"], "area_province_code": staff["province"],
            "area_commune_codes": tuple(commune_code(c, staff["province"]) for c in staff["communes"])}))
    return logins


async def add_producer_logins() -> list[tuple[str, str]]:
    """One login per demo producer, named by its catalogue key (e.g. ``bauda``)."""
    made = []
    for spec in load_catalog()["producers"]:
        code = tax_code(spec["tax_serial"])
        row = await Producer.select(Producer.id).where(Producer.tax_code == code).first()
        if row is None or await User.exists().where(User.username == spec["key"]):
            continue
        await create_user(NewUser(username=spec["key"], password=DEMO_PASSWORD, role="producer",
                                  display_name=spec["representative"], producer_id=row["id"]))
        made.append((spec["key"], "producer"))
    return made
