"""Product variants: the rules, with no I/O.

A product has 0–2 variation *attributes* ("Dung tích": 250 ml, 500 ml; "Quy cách": hũ, hộp quà), in
order, and one *variant* per combination of their options the producer offers, each with its own
seller SKU, price, stock, weight and package size. A product without attributes has no variants and
sells as one SKU. The limits here are the ones every marketplace accepts (the narrowest of them);
what one marketplace allows beyond that is its readiness rule (``ocop.marketplaces``):

- at most 2 attributes and 50 variants: Shopee's ``init_tier_variation`` (2 tiers, 50 models);
- an attribute name at most 14 characters: Shopee's tier name limit, the shortest;
- an option at most 20 characters: Shopee's option limit ("Option length should be under 20"),
  again the shortest of the four.

Every surface (product form, JSON API, import) reads variants through :func:`read_variant` and
checks the whole through :func:`check_variation`, so the rules and their messages live here once.
Errors name the field the JSON way (``variation[1].options[0]``, ``variants[3].sku``); a caller
with other field names maps them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ocop.domain.errors import FieldError, InvalidValue
from ocop.domain.money import parse_vnd
from ocop.domain.text import clean
from ocop.domain.units import parse_count, parse_length_cm_to_mm, parse_weight_g

MAX_ATTRIBUTES = 2
MAX_VARIANTS = 50
NAME_MAX = 14
OPTION_MAX = 20
SKU_MAX = 64
"""``Variant.sku``'s column length, the same as a product's own SKU."""


class Attribute(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A variation attribute and its options, in the order buyers see them."""

    name: str
    options: list[str]


class VariantInput(msgspec.Struct, kw_only=True):
    """One variant, read: money in VND, weight in grams, sizes in millimetres. ``image`` is the id
    of one of the product's photos."""

    option1: str = ""
    option2: str = ""
    sku: str = ""
    price_vnd: int | None = None
    stock: int = 0
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    image: int | None = None

    @property
    def options(self) -> tuple[str, str]:
        return (self.option1, self.option2)


VARIANT_FIELDS = tuple(VariantInput.__struct_fields__)
SIZE_FIELDS = ("length_mm", "width_mm", "height_mm")


def attribute_path(index: int, field: str = "name") -> str:
    return f"variation[{index}].{field}"


def option_path(attribute: int, option: int) -> str:
    return f"variation[{attribute}].options[{option}]"


def variant_path(index: int, field: str) -> str:
    return f"variants[{index}].{field}"


def _key(text: str) -> str:
    """Two names that only differ in case or spacing are the same name to a buyer."""
    return clean(text).casefold()


def _error(path: str, code: str, vi: str, en: str) -> FieldError:
    return FieldError(path, code, vi, en)


# ---- reading ----------------------------------------------------------------------------------


def normalise_variation(raw: Iterable[Mapping[str, Any] | Attribute]) -> list[Attribute]:
    """Attributes as given, NFC and trimmed (inner spaces collapsed); options that are empty after
    trimming are kept so :func:`check_variation` can point at them."""
    attributes = []
    for item in raw:
        if isinstance(item, Attribute):
            name, options = item.name, item.options
        else:
            name, options = item.get("name") or "", item.get("options") or []
        attributes.append(Attribute(name=clean(str(name)), options=[clean(str(o)) for o in options]))
    return attributes


def variation_json(attributes: Sequence[Attribute]) -> list[dict[str, Any]]:
    """What ``Product.variation`` stores."""
    return [{"name": a.name, "options": list(a.options)} for a in attributes]


def _positive_vnd(value: Any) -> int:
    amount = parse_vnd(value)
    if amount <= 0:
        raise InvalidValue("price_not_positive", "Giá bán phải lớn hơn 0", "Price must be more than 0")
    return amount


def _stock(value: Any) -> int:
    negative = str(value).strip().startswith("-") if isinstance(value, str) else (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0)
    if negative:
        raise InvalidValue("stock_negative", "Tồn kho không được âm", "Stock cannot be negative")
    return parse_count(value, "invalid_stock", "Tồn kho", "stock")


def _image(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise InvalidValue("invalid_image", "Ảnh không hợp lệ", "Invalid photo")
    return int(text)


_READERS = {
    "option1": lambda v: clean(str(v)),
    "option2": lambda v: clean(str(v)),
    "sku": lambda v: clean(str(v)),
    "price_vnd": _positive_vnd,
    "stock": _stock,
    "weight_g": parse_weight_g,
    "length_mm": parse_length_cm_to_mm,
    "width_mm": parse_length_cm_to_mm,
    "height_mm": parse_length_cm_to_mm,
    "image": _image,
}
"""How a typed value becomes a :class:`VariantInput` field; sizes are typed in centimetres, like a
product's (a plain number is centimetres, ``"125 mm"`` says its unit)."""


def read_variant(
    raw: Mapping[str, Any], index: int, names: Mapping[str, str] | None = None, *, sizes_in_mm: bool = False
) -> tuple[VariantInput, list[FieldError]]:
    """Read one variant as a form, an API body or an import row gives it. ``names`` maps the
    caller's names to :class:`VariantInput` fields (default: the same names). Errors are at
    ``variants[index].<field>``. ``sizes_in_mm``: the caller sends whole millimetres (the API),
    not centimetres as people type them."""
    names = names or {f: f for f in VARIANT_FIELDS}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, field in names.items():
        if name not in raw:
            continue
        value = raw[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            if sizes_in_mm and field in SIZE_FIELDS:
                values[field] = parse_count(value, "invalid_dimension", "Kích thước", "dimension")
            else:
                values[field] = _READERS[field](value.strip() if isinstance(value, str) else value)
        except InvalidValue as exc:
            errors.append(exc.for_field(variant_path(index, field)))
    return VariantInput(**values), errors  # errors at the rule's field names; read_variation renames


# ---- checking ---------------------------------------------------------------------------------


def _check_attributes(attributes: Sequence[Attribute]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(attributes) > MAX_ATTRIBUTES:
        errors.append(_error("variation", "too_many_attributes",
                             f"Tối đa {MAX_ATTRIBUTES} thuộc tính phân loại",
                             f"At most {MAX_ATTRIBUTES} variation attributes"))
    seen_names: set[str] = set()
    for i, attribute in enumerate(attributes):
        path = attribute_path(i)
        if not attribute.name:
            errors.append(_error(path, "required", "Nhập tên thuộc tính (ví dụ: Dung tích)",
                                 "Enter the attribute name (e.g. Size)"))
        elif len(attribute.name) > NAME_MAX:
            errors.append(_error(path, "attribute_name_too_long",
                                 f"Tên thuộc tính tối đa {NAME_MAX} ký tự",
                                 f"Attribute name: at most {NAME_MAX} characters"))
        elif _key(attribute.name) in seen_names:
            errors.append(_error(path, "duplicate_attribute", "Hai thuộc tính trùng tên",
                                 "Two attributes have the same name"))
        seen_names.add(_key(attribute.name))
        if not attribute.options:
            errors.append(_error(attribute_path(i, "options"), "required",
                                 "Thêm ít nhất một lựa chọn", "Add at least one option"))
        seen_options: set[str] = set()
        for j, option in enumerate(attribute.options):
            opath = option_path(i, j)
            if not option:
                errors.append(_error(opath, "required", "Lựa chọn không được để trống", "An option cannot be empty"))
            elif len(option) > OPTION_MAX:
                errors.append(_error(opath, "option_too_long", f"Lựa chọn tối đa {OPTION_MAX} ký tự",
                                     f"Option: at most {OPTION_MAX} characters"))
            elif _key(option) in seen_options:
                errors.append(_error(opath, "duplicate_option", "Lựa chọn bị trùng trong thuộc tính này",
                                     "This option is already in this attribute"))
            seen_options.add(_key(option))
    return errors


def check_variation(
    attributes: Sequence[Attribute],
    variants: Sequence[VariantInput],
    *,
    taken_skus: Mapping[str, str] | Collection[str] = (),
    unread: Collection[str] = (),
) -> list[FieldError]:
    """Every rule on a product's attributes and variants, all problems at once.

    ``taken_skus``: the producer's SKUs outside this product's variants (their products' own SKUs,
    this product's parent SKU included, and other products' variant SKUs), compared without regard
    to case; a mapping's value names where the SKU is used (shown in the message). ``unread``: the
    fields that did not read (already reported), which are not also called missing."""
    errors = [e for e in _check(attributes, variants, taken_skus) if e.field not in unread]
    return errors


def _check(
    attributes: Sequence[Attribute], variants: Sequence[VariantInput], taken_skus: Mapping[str, str] | Collection[str]
) -> list[FieldError]:
    errors = _check_attributes(attributes)
    if not attributes:
        if variants:
            errors.append(_error("variants", "variants_without_attributes",
                                 "Thêm thuộc tính phân loại trước khi thêm phân loại hàng",
                                 "Add a variation attribute before adding variants"))
        return errors
    if not variants:
        errors.append(_error("variants", "required", "Thêm ít nhất một phân loại hàng", "Add at least one variant"))
    if len(variants) > MAX_VARIANTS:
        errors.append(_error("variants", "too_many_variants",
                             f"Tối đa {MAX_VARIANTS} phân loại hàng (đang có {len(variants)})",
                             f"At most {MAX_VARIANTS} variants ({len(variants)} given)"))
    taken = {_key(s): (taken_skus[s] if isinstance(taken_skus, Mapping) else "") for s in taken_skus}
    known = [{_key(o) for o in a.options} for a in attributes]
    seen_combos: set[tuple[str, ...]] = set()
    seen_skus: set[str] = set()
    for k, variant in enumerate(variants):
        for n, value in enumerate(variant.options):
            field = f"option{n + 1}"
            if n >= len(attributes):
                if value:
                    errors.append(_error(variant_path(k, field), "unknown_option",
                                         "Sản phẩm không có thuộc tính phân loại thứ hai",
                                         "The product has no second variation attribute"))
            elif not value:
                errors.append(_error(variant_path(k, field), "required",
                                     f"Chọn {attributes[n].name or 'lựa chọn'}",
                                     f"Choose a {attributes[n].name or 'value'}"))
            elif _key(value) not in known[n]:
                errors.append(_error(variant_path(k, field), "unknown_option",
                                     f"«{value}» không có trong {attributes[n].name or 'thuộc tính'}",
                                     f"“{value}” is not an option of {attributes[n].name or 'the attribute'}"))
        combo = tuple(_key(o) for o in variant.options[: len(attributes)])
        if all(combo):
            if combo in seen_combos:
                label = " / ".join(variant.options[: len(attributes)])
                errors.append(_error(variant_path(k, "option1"), "duplicate_variant",
                                     f"Phân loại «{label}» đã có", f"Variant “{label}” is already there"))
            seen_combos.add(combo)
        sku_path = variant_path(k, "sku")
        if not variant.sku:
            errors.append(_error(sku_path, "required", "Nhập mã SKU của phân loại", "Enter the variant's SKU"))
        elif len(variant.sku) > SKU_MAX:
            errors.append(_error(sku_path, "sku_too_long", f"Mã SKU tối đa {SKU_MAX} ký tự",
                                 f"SKU: at most {SKU_MAX} characters"))
        elif _key(variant.sku) in seen_skus:
            errors.append(_error(sku_path, "duplicate_sku", "Mã SKU bị trùng với phân loại khác",
                                 "This SKU is already used by another variant"))
        elif _key(variant.sku) in taken:
            where = taken[_key(variant.sku)]
            errors.append(_error(sku_path, "sku_taken",
                                 "Mã SKU đã dùng cho sản phẩm khác" + (f" ({where})" if where else ""),
                                 "This SKU is already used by another product" + (f" ({where})" if where else "")))
        seen_skus.add(_key(variant.sku))
        if variant.price_vnd is None:
            errors.append(_error(variant_path(k, "price_vnd"), "required", "Nhập giá bán", "Enter the price"))
        elif variant.price_vnd <= 0:
            errors.append(_error(variant_path(k, "price_vnd"), "price_not_positive",
                                 "Giá bán phải lớn hơn 0", "Price must be more than 0"))
        if variant.stock < 0:
            errors.append(_error(variant_path(k, "stock"), "stock_negative",
                                 "Tồn kho không được âm", "Stock cannot be negative"))
    return errors


@dataclass
class Variation:
    """A product's attributes and variants as a caller sent them, read and checked."""

    attributes: list[Attribute]
    variants: list[VariantInput]
    errors: list[FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


def read_variation(
    attributes: Iterable[Mapping[str, Any] | Attribute],
    variants: Sequence[Mapping[str, Any]],
    *,
    names: Mapping[str, str] | None = None,
    sizes_in_mm: bool = False,
    taken_skus: Mapping[str, str] | Collection[str] = (),
) -> Variation:
    """Read and check a whole variation in one go, as every surface does: the attributes
    normalised, each variant read (:func:`read_variant`) and spelt as its attributes spell their
    options (:func:`canonical`), then every rule (:func:`check_variation`)."""
    normalised = normalise_variation(attributes)
    read: list[VariantInput] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(variants):
        variant, problems = read_variant(raw, index, names, sizes_in_mm=sizes_in_mm)
        read.append(variant)
        errors += problems
    read = canonical(normalised, read)
    errors += check_variation(normalised, read, taken_skus=taken_skus, unread={e.field for e in errors})
    if names:
        errors = callers_names(errors, names)
    return Variation(attributes=normalised, variants=read, errors=errors)


def callers_names(errors: Iterable[FieldError], names: Mapping[str, str]) -> list[FieldError]:
    """Errors at ``variants[i].<field>`` renamed to the caller's own field names (``names``: the
    caller's name -> the :class:`VariantInput` field), e.g. ``variants[2].price`` for the API."""
    own = {field: name for name, field in names.items()}
    out = []
    for e in errors:
        head, dot, tail = e.field.partition("].")
        if e.field.startswith("variants[") and dot and tail in own:
            e = FieldError(f"{head}].{own[tail]}", e.code, e.message_vi, e.message_en)
        out.append(e)
    return out


# ---- deriving ---------------------------------------------------------------------------------


def combinations(attributes: Sequence[Attribute]) -> list[tuple[str, str]]:
    """Every combination of the attributes' options, in order (first attribute outermost): the
    grid a producer starts from before removing what they do not sell."""
    if not attributes:
        return []
    first = attributes[0].options
    second = attributes[1].options if len(attributes) > 1 else [""]
    return [(a, b) for a in first for b in second]


def canonical(attributes: Sequence[Attribute], variants: Sequence[VariantInput]) -> list[VariantInput]:
    """Variants with their options spelt as the attributes spell them (a variant typed ``"250 ML"``
    takes the attribute's ``"250 ml"``), so what is stored matches ``Product.variation`` exactly."""
    spelling = [{_key(o): o for o in a.options} for a in attributes]
    result = []
    for variant in variants:
        opts = [spelling[n].get(_key(v), v) if n < len(spelling) else v for n, v in enumerate(variant.options)]
        result.append(msgspec.structs.replace(variant, option1=opts[0], option2=opts[1]))
    return result


def rename_options(
    variants: Sequence[VariantInput], attribute: int, renamed: Mapping[str, str]
) -> list[VariantInput]:
    """Variants with the options of ``attribute`` (0 or 1) renamed (``{old: new}``): renaming an
    option renames it on its variants, which keep their SKU, price and stock."""
    field = f"option{attribute + 1}"
    return [
        msgspec.structs.replace(v, **{field: renamed[getattr(v, field)]}) if getattr(v, field) in renamed else v
        for v in variants
    ]


@dataclass(frozen=True, slots=True)
class Rollup:
    """What a product with variants shows as its own price and stock."""

    price_vnd: int | None
    """The lowest variant price."""
    stock: int
    """The sum of variant stocks."""


def rollup(variants: Iterable[Any]) -> Rollup:
    """Lowest price and total stock of ``variants`` (:class:`VariantInput` or rows as dicts)."""
    prices, stock = [], 0
    for v in variants:
        price = v["price_vnd"] if isinstance(v, Mapping) else v.price_vnd
        units = v["stock"] if isinstance(v, Mapping) else v.stock
        if price is not None:
            prices.append(price)
        stock += units or 0
    return Rollup(price_vnd=min(prices) if prices else None, stock=stock)


@dataclass(frozen=True, slots=True)
class Summary:
    """A product's variants at a glance (lists and the product page)."""

    count: int
    price_min: int | None
    price_max: int | None
    stock: int


def summary(variants: Sequence[Any]) -> Summary:
    """How many variants, their price range and total stock (rows as dicts)."""
    prices = [v["price_vnd"] for v in variants if v["price_vnd"] is not None]
    return Summary(len(variants), min(prices, default=None), max(prices, default=None),
                   sum(v["stock"] or 0 for v in variants))


def label(option1: str, option2: str = "") -> str:
    """A variant's name for people: ``"250 ml / hũ"``."""
    return " / ".join(o for o in (option1, option2) if o)
