"""Turn spreadsheet rows into typed records or row faults, with the domain rules the web forms use.

Pure: no database, no network. A row with any fault is reported (spreadsheet row number, column as
headed in the file, the value, Vietnamese and English message) and not imported; the other rows
go on. A second row with the same key (producer tax code, ``Mã sản phẩm``) is a fault of that later
row. Producer details repeat on every row; the first row of a producer defines them. The rows of
a product with variants (a ``Mã phân loại`` or ``Lựa chọn`` filled in) share their key and are put
together into one product at the end (:func:`combine`).

Repeated values (province, commune, kind, unit, the producer's own fields) are parsed once per
distinct value (``lru_cache`` on the pure parsers), which keeps 10,000 rows well under a second.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import TypeVar

from ocop.domain import admin_units
from ocop.domain.errors import InvalidValue
from ocop.domain.legacy_fonts import Encoding, detect, has_legacy_evidence, to_unicode
from ocop.domain.money import parse_vnd
from ocop.domain.ocop import certificate_expiry, parse_decision_number, parse_group, parse_producer_kind, parse_stars
from ocop.domain.phone import parse_phone
from ocop.domain.dates import parse_date
from ocop.domain.taxcode import parse_tax_code
from ocop.domain.text import clean
from ocop.domain.units import parse_count, parse_length_cm_to_mm, parse_unit, parse_weight_g
from ocop.catalog.variants import Attribute, VariantInput, canonical, check_variation, normalise_variation, rollup
from ocop.imports.columns import ALL_COLUMNS, HeaderMap
from ocop.imports.images import ImageRef, parse_image_refs
from ocop.imports.readers import Cell, Sheet

#: Columns whose text may be typed in a legacy font (codes and numbers never are).
TEXT_COLUMNS = (
    "producer_name", "producer_kind", "province", "commune", "name", "group", "decision_number", "unit", "net_quantity",
    "description", "attr1_name", "attr1_value", "attr2_name", "attr2_value",
)
#: Columns where line breaks mean something (paragraphs, one photo per line).
MULTILINE = frozenset({"description", "images"})
MAX_TEXT = {"producer_name": 255, "name": 255, "sku": 64, "net_quantity": 64, "description": 20_000, "variant_sku": 64,
            "attr1_name": 40, "attr1_value": 40, "attr2_name": 40, "attr2_value": 40}


@dataclass(frozen=True, slots=True)
class RowFault:
    row: int
    column: str
    value: str
    code: str
    message_vi: str
    message_en: str


@dataclass(frozen=True, slots=True)
class ProducerData:
    tax_code: str
    kind: str
    legal_name: str
    phone: str
    province_code: int
    commune_code: int
    legacy_district: str = ""  # pre-2025 district, when the commune was given by its old name


@dataclass(frozen=True, slots=True)
class ProductData:
    sku: str
    name: str
    ocop_group: int
    unit: str
    net_quantity: str
    price_vnd: int
    stock: int
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    shelf_life_days: int | None
    description: str


@dataclass(frozen=True, slots=True)
class CertificateData:
    stars: int
    decision_number: str
    issued_on: date | None
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class VariantRow:
    """What a variant row says beside the product's columns: its attribute names and options (one
    or two) and its own SKU; its price, stock, weight and size are the row's."""

    names: tuple[str, ...]
    options: tuple[str, ...]
    sku: str


@dataclass(frozen=True, slots=True)
class RowRecord:
    row: int
    producer: ProducerData
    product: ProductData
    certificate: CertificateData
    images: tuple[ImageRef, ...]
    notes: tuple[str, ...] = ()  # e.g. a pre-2025 commune name that was mapped
    variant: VariantRow | None = None
    """This row is one variant of its product (before the rows of a product are put together)."""
    variation: tuple[Attribute, ...] = ()
    variants: tuple[VariantInput, ...] = ()
    """A product with variants, put together from its rows (``ocop.imports.variant_rows``);
    ``product`` then holds the first row's values with the lowest price and the total stock."""
    variant_rows: tuple[int, ...] = ()
    """The spreadsheet row of each variant, in order."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.producer.tax_code, self.product.sku)

    @property
    def content_hash(self) -> str:
        """Hash of everything the row writes for the product, to tell "unchanged" on re-import; a
        product with variants covers them too (one without hashes exactly as before variants)."""
        parts: tuple[object, ...] = (self.product, self.certificate, self.images)
        if self.variants:
            parts += (self.variation, self.variants)
        payload = repr(parts)  # dataclass and msgspec reprs list every field
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(slots=True)
class ValidationResult:
    records: list[RowRecord]
    faults: list[RowFault]
    rows: int  # data rows seen
    unknown_columns: list[str]
    encoding: Encoding  # the legacy font found in most converted columns, else UNICODE


class MissingColumns(Exception):
    def __init__(self, headers: list[str]) -> None:
        names = ", ".join(headers)
        super().__init__(f"Missing required columns: {names}")
        self.message_vi = f"Thiếu cột bắt buộc: {names}"
        self.message_en = f"Missing required columns: {names}"


T = TypeVar("T")


def _cached(fn: Callable[[object], T]) -> Callable[[object], T]:
    return lru_cache(maxsize=8192)(fn)  # type: ignore[return-value]


def _as_text(cell: Cell) -> str:
    """Cell to text: whole floats lose ``.0`` (Excel stores codes typed as numbers as floats)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y %H:%M") if cell.time() != datetime.min.time() else cell.strftime("%d/%m/%Y")
    if isinstance(cell, date):
        return cell.strftime("%d/%m/%Y")
    return str(cell)


def _multiline(text: str) -> str:
    """Like :func:`clean` per line, keeping the line breaks (and dropping blank edge lines)."""
    return "\n".join(clean(line) for line in text.splitlines()).strip()


_tax = _cached(parse_tax_code)
_kind = _cached(parse_producer_kind)
_phone = _cached(parse_phone)
_province = _cached(admin_units.find_province)
_group = _cached(parse_group)
_stars = _cached(parse_stars)
_decision = _cached(parse_decision_number)
_date = _cached(parse_date)
_unit = _cached(parse_unit)
_price = _cached(parse_vnd)
_weight = _cached(parse_weight_g)
_length = _cached(parse_length_cm_to_mm)
_stock = _cached(lambda v: parse_count(v, "invalid_stock", "Tồn kho", "stock"))
_shelf = _cached(lambda v: parse_count(v, "invalid_shelf_life", "Hạn sử dụng", "shelf life"))


@lru_cache(maxsize=8192)
def _ward(province_code: int, name: str) -> admin_units.WardMatch:
    province = next(p for p in admin_units.provinces() if int(p.code) == province_code)
    return admin_units.find_ward(province, name)


class _Row:
    """One row being validated: collects faults instead of stopping at the first."""

    def __init__(self, number: int, cells: list[Cell], header: HeaderMap, labels: Mapping[str, str],
                 encodings: Mapping[str, Encoding]) -> None:
        self.number = number
        self.cells = cells
        self.header = header
        self.labels = labels
        self.encodings = encodings
        self.file_font = _most_common(encodings)
        self.faults: list[RowFault] = []

    def cell(self, key: str) -> Cell:
        index = self.header.positions.get(key)
        if index is None or index >= len(self.cells):
            return None
        value = self.cells[index]
        if isinstance(value, str):
            encoding = self.encodings.get(key)
            if encoding is not None:
                value = to_unicode(value, encoding)
            value = _multiline(value) if key in MULTILINE else clean(value)
            return value or None
        return value

    def fault(self, key: str, value: Cell, error: InvalidValue) -> None:
        self.faults.append(
            RowFault(self.number, self.labels[key], _as_text(value), error.code, error.message_vi, error.message_en)
        )

    def required(self, key: str) -> Cell:
        value = self.cell(key)
        if value is None:
            self.fault(key, value, InvalidValue("required", "Không được để trống", "This field is required"))
        return value

    def parse(self, key: str, parser: Callable[[object], T], *, required: bool = False) -> T | None:
        value = self.required(key) if required else self.cell(key)
        if value is None:
            return None
        try:
            return parser(value)
        except InvalidValue as error:
            retry = self._in_file_font(key, value)
            if retry is not None:
                try:
                    return parser(retry)
                except InvalidValue:
                    pass
            self.fault(key, value, error)
            return None

    def _in_file_font(self, key: str, value: Cell) -> str | None:
        """For a closed-list column that showed no legacy evidence of its own (all-ambiguous values
        such as TCVN3 ``Hép`` = "Hộp"): the value read in the file's font, tried only when the
        value as typed is invalid, so a valid reading confirms the font."""
        if self.file_font is None or key in self.encodings or key not in TEXT_COLUMNS or not isinstance(value, str):
            return None
        converted = to_unicode(value, self.file_font)
        return converted if converted != value else None

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.required(key) if required else self.cell(key)
        text = _as_text(value)
        limit = MAX_TEXT.get(key)
        if limit and len(text) > limit:
            self.fault(key, text[:50] + "…", InvalidValue("too_long", f"Tối đa {limit} ký tự", f"At most {limit} characters"))
        return text


def _labels(sheet: Sheet, header: HeaderMap) -> dict[str, str]:
    labels = {c.key: c.header for c in ALL_COLUMNS}
    for key, index in header.positions.items():
        labels[key] = _as_text(sheet.header[index]).strip() or labels[key]
    return labels


def _most_common(encodings: Mapping[str, Encoding]) -> Encoding | None:
    values = list(encodings.values())
    return max(set(values), key=values.count) if values else None


def _detect_encodings(rows: list[tuple[int, list[Cell]]], header: HeaderMap) -> dict[str, Encoding]:
    """Legacy font per text column: a column is usually typed (or pasted) from one source, so a
    Unicode column in an otherwise TCVN3 file stays untouched."""
    found: dict[str, Encoding] = {}
    for key in TEXT_COLUMNS:
        index = header.positions.get(key)
        if index is None:
            continue
        texts = (cells[index] for _, cells in rows if index < len(cells) and isinstance(cells[index], str))
        encoding = detect(t for t in texts if has_legacy_evidence(t))  # type: ignore[arg-type]
        if encoding is not Encoding.UNICODE:
            found[key] = encoding
    return found


def validate_sheet(
    sheet: Sheet,
    header: HeaderMap,
    *,
    zip_names: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationResult:
    """Validate every data row of ``sheet``; raise :class:`MissingColumns` if a required column is absent."""
    if header.missing_required:
        raise MissingColumns(header.missing_required)
    rows = list(sheet.rows)
    encodings = _detect_encodings(rows, header)
    labels = _labels(sheet, header)
    records: list[RowRecord] = []
    faults: list[RowFault] = []
    seen: dict[tuple[str, str], int] = {}
    grouped: dict[tuple[str, str], list[RowRecord]] = {}
    for count, (number, cells) in enumerate(rows, start=1):
        row = _Row(number, cells, header, labels, encodings)
        record = _validate_row(row, zip_names)
        if record is not None and not row.faults:
            first = seen.get(record.key)
            if record.variant is not None and (first is None or record.key in grouped):
                # the rows of a product with variants, put together below
                seen.setdefault(record.key, number)
                grouped.setdefault(record.key, []).append(record)
            elif first is not None:
                row.fault("sku", record.product.sku, InvalidValue(
                    "duplicate_key",
                    f"Trùng mã sản phẩm {record.product.sku} của chủ thể {record.producer.tax_code} với dòng {first}",
                    f"Duplicate product code {record.product.sku} for producer {record.producer.tax_code} (first on row {first})",
                ))
            else:
                seen[record.key] = number
                records.append(record)
        faults.extend(row.faults)
        if progress is not None and count % 500 == 0:
            progress(count, len(rows))
    if grouped:
        products, variant_faults = combine(grouped, labels, [r.key for r in records])
        records = sorted(records + products, key=lambda r: r.row)
        faults = sorted(faults + variant_faults, key=lambda f: f.row)
    if progress is not None:
        progress(len(rows), len(rows))
    return ValidationResult(records, faults, len(rows), header.unknown, _most_common(encodings) or Encoding.UNICODE)


def _validate_row(row: _Row, zip_names: Mapping[str, str] | None) -> RowRecord | None:
    tax = row.parse("tax_code", _tax, required=True)
    legal_name = row.text("producer_name", required=True)
    kind = row.parse("producer_kind", _kind, required=True)
    phone = row.parse("phone", _phone) or ""
    province = row.parse("province", _province, required=True)
    commune_text = row.text("commune", required=True)
    ward_match = None
    if province is not None and commune_text:
        try:
            ward_match = _ward(int(province.code), commune_text)
        except InvalidValue as error:
            row.fault("commune", commune_text, error)
    sku = row.text("sku", required=True)
    name = row.text("name", required=True)
    group = row.parse("group", _group, required=True)
    stars = row.parse("stars", _stars, required=True)
    decision = row.parse("decision_number", _decision) or ""
    issued_on = row.parse("decided_on", _date)
    unit = row.parse("unit", _unit, required=True)
    price = row.parse("price", _price, required=True)
    stock = row.parse("stock", _stock)
    weight = row.parse("weight_g", _weight)
    length = row.parse("length_cm", _length)
    width = row.parse("width_cm", _length)
    height = row.parse("height_cm", _length)
    shelf = row.parse("shelf_life_days", _shelf)
    net_quantity = row.text("net_quantity")
    description = row.text("description")
    variant_sku = row.text("variant_sku")
    names = (row.text("attr1_name"), row.text("attr2_name"))
    values = (row.text("attr1_value"), row.text("attr2_value"))
    variant = None
    if variant_sku or any(values):
        count = 2 if names[1] or values[1] else 1
        variant = VariantRow(names[:count], values[:count], variant_sku)
    images: tuple[ImageRef, ...] = ()
    image_cell = row.cell("images")
    if image_cell is not None:
        try:
            images = parse_image_refs(_as_text(image_cell), zip_names)
        except InvalidValue as error:
            row.fault("images", image_cell, error)
    if row.faults or tax is None or kind is None or province is None or ward_match is None or group is None \
            or stars is None or unit is None or price is None:
        return None
    return RowRecord(
        row=row.number,
        producer=ProducerData(tax.value, kind.value, legal_name, phone, int(province.code), int(ward_match.ward.code),
                              ward_match.legacy_district),
        product=ProductData(
            sku=sku, name=name, ocop_group=group.code, unit=unit.code, net_quantity=net_quantity, price_vnd=price,
            stock=stock or 0, weight_g=weight, length_mm=length, width_mm=width, height_mm=height,
            shelf_life_days=shelf, description=description,
        ),
        certificate=CertificateData(stars, decision, issued_on, certificate_expiry(issued_on) if issued_on else None),
        images=images,
        notes=(ward_match.legacy_note,) if ward_match.legacy_note else (),
        variant=variant,
    )


# ---- products with variants -------------------------------------------------------------------
#
# The rows of a product with variants are put together into one product: one row per variant,
# grouped by the product key (producer tax code, ``Mã sản phẩm``). The first row gives the
# product's own values; every row gives its variant's SKU, options, price, stock, weight and size.
# The whole is checked by the same rules as the product form and the API (ocop.catalog.variants),
# and each fault is reported at the row and column it comes from. A product with a faulty variant
# is not imported at all (half a product on a marketplace is worse than none): its other rows say
# which row to fix.

_FIELD_COLUMN = {"sku": "variant_sku", "option1": "attr1_value", "option2": "attr2_value", "price_vnd": "price",
                 "stock": "stock"}


def _variant_key(text: str) -> str:
    return clean(text).casefold()


def combine(
    grouped: Mapping[tuple[str, str], Sequence[RowRecord]],
    labels: Mapping[str, str],
    other_keys: Iterable[tuple[str, str]] = (),
) -> tuple[list[RowRecord], list[RowFault]]:
    """One record per product from its variant rows, and the faults of those that do not hold.
    ``other_keys``: the file's products without variants (tax code, code), whose codes a variant
    SKU may not take."""
    products: list[RowRecord] = []
    faults: list[RowFault] = []
    keys_of: dict[str, set[str]] = {}
    for tax, sku in [*grouped, *other_keys]:
        keys_of.setdefault(tax, set()).add(sku)
    used: dict[str, dict[str, str]] = {}  # tax code -> variant SKUs of products put together so far
    for key in sorted(grouped, key=lambda k: grouped[k][0].row):
        rows = grouped[key]
        found = _combine(rows, labels, {**{s: s for s in keys_of[key[0]]}, **used.get(key[0], {})})
        if isinstance(found, RowRecord):
            products.append(found)
            used.setdefault(key[0], {}).update({v.sku: key[1] for v in found.variants})
        else:
            faulty = {f.row for f in found}
            faults += found
            first = min(faulty)
            faults += [
                RowFault(r.row, labels["sku"], r.product.sku, "variant_product_not_imported",
                         f"Sản phẩm {r.product.sku} chưa được nhập: sửa lỗi ở dòng {first}",
                         f"Product {r.product.sku} was not imported: fix row {first}")
                for r in rows if r.row not in faulty
            ]
    return products, faults


def _fault(row: int, labels: Mapping[str, str], column: str, value: str, code: str, vi: str, en: str) -> RowFault:
    return RowFault(row, labels[column], value, code, vi, en)


def _combine(rows: Sequence[RowRecord], labels: Mapping[str, str], taken: Mapping[str, str]) -> RowRecord | list[RowFault]:
    first = rows[0]
    assert first.variant is not None
    names = first.variant.names
    faults: list[RowFault] = []
    for record in rows[1:]:
        assert record.variant is not None
        theirs = record.variant.names
        for n in range(max(len(names), len(theirs))):
            mine = names[n] if n < len(names) else ""
            other = theirs[n] if n < len(theirs) else ""
            if _variant_key(mine) != _variant_key(other):
                faults.append(_fault(record.row, labels, f"attr{n + 1}_name", other, "variation_differs",
                                     f"Tên phân loại {n + 1} phải giống dòng {first.row} ({mine or 'trống'})",
                                     f"Variation {n + 1} must be named as on row {first.row} ({mine or 'empty'})"))
    if faults:
        return faults
    options: list[list[str]] = [[] for _ in names]
    option_row: dict[tuple[int, str], int] = {}
    for record in rows:
        assert record.variant is not None
        for n, value in enumerate(record.variant.options):
            if value and _variant_key(value) not in {_variant_key(o) for o in options[n]}:
                options[n].append(value)
                option_row[(n, _variant_key(value))] = record.row
    attributes = normalise_variation(Attribute(name, opts) for name, opts in zip(names, options))
    variants = [
        VariantInput(
            option1=r.variant.options[0] if r.variant else "",
            option2=r.variant.options[1] if r.variant and len(r.variant.options) > 1 else "",
            sku=r.variant.sku if r.variant else "",
            price_vnd=r.product.price_vnd, stock=r.product.stock, weight_g=r.product.weight_g,
            length_mm=r.product.length_mm, width_mm=r.product.width_mm, height_mm=r.product.height_mm,
        )
        for r in rows
    ]
    variants = canonical(attributes, variants)
    for error in check_variation(attributes, variants, taken_skus=taken):
        row, column, value = first.row, "variant_sku", ""
        if m := re.fullmatch(r"variants\[(\d+)\]\.(\w+)", error.field):
            k, field = int(m.group(1)), m.group(2)
            row, column = rows[k].row, _FIELD_COLUMN.get(field, "variant_sku")
            value = str(getattr(variants[k], field, "") or "")
        elif m := re.fullmatch(r"variation\[(\d+)\]\.options\[(\d+)\]", error.field):
            n, j = int(m.group(1)), int(m.group(2))
            value = attributes[n].options[j]
            row, column = option_row.get((n, _variant_key(value)), first.row), f"attr{n + 1}_value"
        elif m := re.fullmatch(r"variation\[(\d+)\]\.\w+", error.field):
            n = int(m.group(1))
            column, value = f"attr{n + 1}_name", attributes[n].name
        faults.append(_fault(row, labels, column, value, error.code, error.message_vi, error.message_en))
    if faults:
        return faults
    step = rollup(variants)
    return replace(
        first,
        product=replace(first.product, price_vnd=step.price_vnd or 0, stock=step.stock),
        variant=None,
        variation=tuple(attributes),
        variants=tuple(variants),
        variant_rows=tuple(r.row for r in rows),
        images=first.images,
    )
