"""The variants part of the product form, working without JavaScript.

The form posts everything it shows: each attribute's name (``attr0_name``) and options
(``attr0_opt0``, ``attr0_opt1`` …, one blank slot to add one), each option's value as it was when
the page was drawn (``attr0_was0``), so a renamed option is renamed on its variants, and one card
per variant (``v0_option1``, ``v0_sku``, ``v0_price``, …). Buttons named ``op`` change the
structure and draw the form again without saving: add or remove an attribute, move an option up or
down, make the missing combinations, remove a variant. Saving reads it all through the same rules
as the API and the import (:mod:`ocop.catalog.variants`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ocop.catalog.variants import MAX_ATTRIBUTES, MAX_VARIANTS, combinations, normalise_variation
from ocop.domain.errors import FieldError
from ocop.domain.money import format_vnd
from ocop.domain.text import clean, fold

VARIANT_FIELDS = {
    "option1": "option1", "option2": "option2", "sku": "sku", "price": "price_vnd", "stock": "stock",
    "weight": "weight_g", "length": "length_mm", "width": "width_mm", "height": "height_mm", "image": "image",
}
"""A variant card's field -> :class:`~ocop.catalog.variants.VariantInput` field (sizes in cm, as
the product's own)."""

_ATTR = re.compile(r"^attr(\d)_(name|opt(\d+)|was(\d+))$")
_VARIANT = re.compile(r"^v(\d+)_(\w+)$")


@dataclass
class VariantForm:
    """The variants part of the form as typed: attributes (``name``, ``options``) and variants as
    strings by card field name."""

    attributes: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, str]] = field(default_factory=list)


def from_form(form: Mapping[str, str]) -> VariantForm:
    """Read the posted variants part, renaming on the variants every option whose text changed and
    dropping the variants of an option that was emptied."""
    names: dict[int, str] = {}
    options: dict[int, dict[int, str]] = {}
    was: dict[int, dict[int, str]] = {}
    cards: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        if match := _ATTR.match(key):
            i = int(match.group(1))
            if match.group(2) == "name":
                names[i] = value
            elif match.group(3) is not None:
                options.setdefault(i, {})[int(match.group(3))] = value
            else:
                was.setdefault(i, {})[int(match.group(4))] = value
        elif (match := _VARIANT.match(key)) and match.group(2) in VARIANT_FIELDS:
            cards.setdefault(int(match.group(1)), {})[match.group(2)] = value
    result = VariantForm()
    renames: list[dict[str, str]] = []
    removed: list[set[str]] = []
    for i in sorted(set(names) | set(options))[:MAX_ATTRIBUTES + 1]:
        typed = options.get(i, {})
        kept, rename, gone = [], {}, set()
        for j in sorted(typed):
            new, old = clean(typed[j]), clean(was.get(i, {}).get(j, ""))
            if new:
                kept.append(new)
                if old and old != new:
                    rename[old] = new
            elif old:
                gone.add(old)
        result.attributes.append({"name": clean(names.get(i, "")), "options": kept})
        renames.append(rename)
        removed.append(gone)
    for k in sorted(cards):
        card = dict(cards[k])
        dropped = False
        for n in range(len(result.attributes)):
            key = f"option{n + 1}"
            value = clean(card.get(key, ""))
            if value in removed[n]:
                dropped = True
            card[key] = renames[n].get(value, value)
        if not dropped:
            result.variants.append(card)
    return result


def cm_text(mm: int | None) -> str:
    """Millimetres as a form shows them, in centimetres with a decimal comma: 125 -> ``"12,5"``."""
    if mm is None:
        return ""
    return str(mm // 10) if mm % 10 == 0 else f"{mm / 10:g}".replace(".", ",")


def price_text(vnd: int | None) -> str:
    """A price as a form shows it: ``150.000``."""
    return "" if vnd is None else format_vnd(vnd).replace(" ₫", "")


def from_rows(variation: Any, rows: Iterable[Mapping[str, Any]]) -> VariantForm:
    """The stored variants as the form shows them (prices grouped like ``150.000``, sizes in cm)."""
    attributes = [{"name": a.name, "options": list(a.options)} for a in normalise_variation(variation)]
    variants = []
    for row in rows:
        variants.append({
            "option1": row["option1"], "option2": row["option2"], "sku": row["sku"],
            "price": price_text(row["price_vnd"]),
            "stock": str(row["stock"]), "weight": "" if row["weight_g"] is None else str(row["weight_g"]),
            "length": cm_text(row["length_mm"]), "width": cm_text(row["width_mm"]), "height": cm_text(row["height_mm"]),
            "image": "" if row["image"] is None else str(row["image"]),
        })
    return VariantForm(attributes, variants)


def apply(op: str, vf: VariantForm, parent_sku: str = "") -> VariantForm:
    """One structural change asked for by an ``op`` button; unknown or out-of-range ops change
    nothing."""
    verb, _, rest = op.partition(":")
    args = [int(a) for a in rest.split(":") if a.isdigit()]
    attrs = vf.attributes
    if verb == "add_attr" and len(attrs) < MAX_ATTRIBUTES:
        attrs.append({"name": "", "options": []})
    elif verb == "remove_attr" and args and args[0] < len(attrs):
        i = args[0]
        del attrs[i]
        # the variants keep the other attribute's option; duplicates that leaves are merged
        seen: set[tuple[str, str]] = set()
        kept = []
        for card in vf.variants:
            values = [card.get("option1", ""), card.get("option2", "")]
            del values[i]
            card["option1"], card["option2"] = values[0], ""
            if (card["option1"], "") not in seen:
                seen.add((card["option1"], ""))
                kept.append(card)
        vf.variants = kept if attrs else []
    elif verb in ("opt_up", "opt_down") and len(args) == 2 and args[0] < len(attrs):
        options = attrs[args[0]]["options"]
        j, step = args[1], -1 if verb == "opt_up" else 1
        if 0 <= j < len(options) and 0 <= j + step < len(options):
            options[j], options[j + step] = options[j + step], options[j]
            orders = [{o: n for n, o in enumerate(a["options"])} for a in attrs]
            vf.variants.sort(key=lambda c: tuple(order.get(c.get(f"option{n + 1}", ""), len(order))
                                                 for n, order in enumerate(orders)))
    elif verb == "gen" and attrs:
        have = {(c.get("option1", ""), c.get("option2", "")) for c in vf.variants}
        parsed = normalise_variation(attrs)
        for a, b in combinations(parsed):
            if (a, b) not in have and len(vf.variants) < MAX_VARIANTS:
                suffix = "-".join(_sku_part(o) for o in (a, b) if o)
                vf.variants.append({"option1": a, "option2": b, "sku": f"{parent_sku}-{suffix}" if parent_sku else ""})
    elif verb == "del_var" and args and args[0] < len(vf.variants):
        del vf.variants[args[0]]
    return vf


def _sku_part(option: str) -> str:
    """A readable SKU piece from an option: ``"250 ml"`` -> ``250ML``, ``"hộp quà"`` -> ``HOPQUA``."""
    return re.sub(r"[^0-9A-Z]", "", fold(option).upper())[:12] or "X"


def form_name(path: str) -> str:
    """A rule's field path as the form's field name: ``variants[3].price`` -> ``v3_price``,
    ``variation[1].options[0]`` -> ``attr1_opt0``, ``variation[0].name`` -> ``attr0_name``."""
    if m := re.fullmatch(r"variants\[(\d+)\]\.(\w+)", path):
        return f"v{m.group(1)}_{m.group(2)}"
    if m := re.fullmatch(r"variation\[(\d+)\]\.options\[(\d+)\]", path):
        return f"attr{m.group(1)}_opt{m.group(2)}"
    if m := re.fullmatch(r"variation\[(\d+)\]\.(\w+)", path):
        return f"attr{m.group(1)}_{m.group(2)}"
    return path


def form_errors(errors: Iterable[FieldError]) -> list[FieldError]:
    return [FieldError(form_name(e.field), e.code, e.message_vi, e.message_en) for e in errors]
