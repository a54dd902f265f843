"""Producer sign-up (with the HTMX province → commune select) and the producer page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ocop.accounts.access import get_producer
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, current_user, requires_user
from ocop.accounts.ratelimit import login_limiter, minutes
from ocop.accounts.sessions import sign_in
from ocop.accounts.tables import User
from ocop.catalog.tables import Product
from ocop.domain.ocop import ProducerKind
from ocop.domain.phone import format_phone
from ocop.producers.addresses import province_name, province_options, ward_name, ward_options
from ocop.producers.services import SignupInvalid, sign_up, update_producer
from ocop.web.i18n import gettext, pick
from ocop.web.render import client_ip, form_dict, locale, render, see_other

PAGE = {"include_in_schema": False}


def _signup_page(form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    province = int(form["province_code"]) if form.get("province_code", "").isdigit() else None
    return render(
        "producers/signup.html",
        status_code=status_code,
        form=form,
        errors=errors,
        kinds=list(ProducerKind),
        provinces=province_options(),
        wards=ward_options(province) if province else (),
    )


@get("/signup", **PAGE)
async def signup_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    if await current_user(request) is not None:
        return see_other("/products")
    return _signup_page({}, {})


@post("/signup", **PAGE)
async def signup(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await form_dict(request)
    wait = await login_limiter(request.app).signup_attempt(client_ip(request))
    if wait:  # each submission tells whether a username or tax code exists: not for scraping
        kept = {k: v for k, v in form.items() if k not in ("password", "confirm")}
        message = gettext(locale(request),
                          "Quá nhiều lần đăng ký từ địa chỉ này. Vui lòng thử lại sau {minutes} phút.",
                          minutes=minutes(wait))
        page = _signup_page(kept, {"_": message}, 429)
        page.headers["Retry-After"] = str(wait)
        return page
    try:
        producer, user_id = await sign_up(form)
    except SignupInvalid as exc:
        lang = locale(request)
        errors = {e.field: pick(lang, e.message_vi, e.message_en) for e in exc.errors}
        kept = {k: v for k, v in form.items() if k not in ("password", "confirm")}
        return _signup_page(kept, errors, 400)
    sign_in(request, {"id": user_id, "session_generation": 0})
    await User.update({User.locale: locale(request)}).where(
        User.id == user_id
    )  # keep the language they signed up in
    await record(
        None,
        "producer.signup",
        "producer",
        producer["id"],
        producer_id=producer["id"],
        changes={"legal_name": producer["legal_name"], "tax_code": producer["tax_code"]},
        ip=client_ip(request),
    )
    return see_other("/products")


@get("/signup/communes", **PAGE)
async def commune_options(province_code: FromQuery[str] = "") -> Template:
    """HTMX: the commune/ward <select> for the chosen province."""
    wards = ward_options(int(province_code)) if province_code.isdigit() else ()
    return render("producers/_communes.html", wards=wards, form={}, errors={})


@get("/producers/{producer_id:int}", guards=[requires_user], **PAGE)
async def producer_page(me: Me, producer_id: FromPath[int]) -> Template:
    producer = await get_producer(me, producer_id)
    products = (
        await Product.select(Product.id, Product.name, Product.status)
        .where(Product.producer == producer_id)
        .order_by(Product.name)
    )
    users = (
        await User.select(User.id, User.username, User.display_name).where(User.producer == producer_id)
        if not me.is_producer
        else []
    )
    return render(
        "producers/detail.html",
        producer=producer,
        products=products,
        users=users,
        province=province_name(producer["province_code"]),
        ward=ward_name(producer["province_code"], producer["commune_code"]),
        phone=format_phone(producer["phone"]) if producer["phone"] else "",
        kind=ProducerKind(producer["kind"]) if producer["kind"] in {k.value for k in ProducerKind} else None,
    )


@get("/producer", guards=[requires_user], **PAGE)
async def my_producer(me: Me) -> Redirect:
    target = me.producer_id if me.is_producer else me.acting_for_producer_id
    return see_other(f"/producers/{target}" if target else "/staff")


def _edit_page(
    producer_id: int, form: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Template:
    province = int(form["province_code"]) if form.get("province_code", "").isdigit() else None
    return render(
        "producers/edit.html",
        status_code=status_code,
        producer_id=producer_id,
        form=form,
        errors=errors,
        kinds=list(ProducerKind),
        provinces=province_options(),
        wards=ward_options(province) if province else (),
    )


@get("/producers/{producer_id:int}/edit", guards=[requires_user], **PAGE)
async def producer_edit(me: Me, producer_id: FromPath[int]) -> Template:
    row = await get_producer(me, producer_id)
    form = {
        k: "" if row[k] is None else str(row[k])
        for k in (
            "kind",
            "legal_name",
            "tax_code",
            "phone",
            "email",
            "representative",
            "address_line",
            "province_code",
            "commune_code",
        )
    }
    form["phone"] = format_phone(row["phone"]) if row["phone"] else ""
    return _edit_page(producer_id, form, {})


@post("/producers/{producer_id:int}/edit", guards=[requires_user], **PAGE)
async def producer_update(
    request: Request[Any, Any, Any], me: Me, producer_id: FromPath[int]
) -> Template | Redirect:
    await get_producer(me, producer_id)
    form = await form_dict(request)
    try:
        await update_producer(me, producer_id, form, ip=client_ip(request))
    except SignupInvalid as exc:
        lang = locale(request)
        return _edit_page(
            producer_id, form, {e.field: pick(lang, e.message_vi, e.message_en) for e in exc.errors}, 400
        )
    return see_other(f"/producers/{producer_id}")


ROUTES = [signup_form, signup, commune_options, producer_page, my_producer, producer_edit, producer_update]
