"""Account pages: sign in/out, change password, language, admin user management, reset links."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ocop import db
from ocop.accounts.access import get_producer
from ocop.accounts.audit import record
from ocop.accounts.auth import (
    Me,
    current_user,
    require_session,
    requires_admin,
    requires_staff,
    requires_user,
    touch_login,
)
from ocop.accounts.ratelimit import login_limiter, minutes
from ocop.accounts.services import (
    AccountError,
    NewUser,
    authenticate,
    change_password,
    change_role,
    create_user,
    make_reset_link,
    reset_target,
    set_active,
    use_reset_link,
)
from ocop.accounts.sessions import end_session, sign_in
from ocop.accounts.tables import User
from ocop.accounts.tokens import create_token, list_tokens, revoke_token
from ocop.domain.admin_units import provinces
from ocop.web.i18n import LANG_COOKIE, LOCALES, gettext, pick
from ocop.web.render import client_ip, form_dict, locale, render, safe_next, see_other

PAGE = {"include_in_schema": False}


def home_for(me: Me) -> str:
    return "/staff" if me.role in ("staff", "admin") else "/products"


@get("/login", **PAGE)
async def login_form(request: Request[Any, Any, Any], next: FromQuery[str] = "") -> Template | Redirect:
    me = await current_user(request)
    if me is not None:
        return see_other(home_for(me))
    return render("accounts/login.html", form={"next": next}, errors={})


@post("/login", **PAGE)
async def login(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Sign in. The attempt is counted (atomically, in Redis) before the password is checked, and
    refused unchecked when over the limit (``ocop.accounts.ratelimit``)."""
    form = await form_dict(request)
    username, password = form.get("username", ""), form.get("password", "")
    lang = locale(request)
    limiter = login_limiter(request.app)
    ip = client_ip(request)
    wait = await limiter.attempt(username, ip)
    if wait:
        message = gettext(
            lang, "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", minutes=minutes(wait)
        )
        page = render("accounts/login.html", status_code=429, form=form, errors={"_": message})
        page.headers["Retry-After"] = str(wait)
        return page
    row = await authenticate(username, password)
    if row is None:
        return render(
            "accounts/login.html",
            status_code=400,
            form=form,
            errors={"_": gettext(lang, "Tên đăng nhập hoặc mật khẩu không đúng.")},
        )
    await limiter.succeeded(username, ip)
    sign_in(request, row)
    await touch_login(int(row["id"]))  # type: ignore[arg-type]
    target = "/staff" if row["role"] in ("staff", "admin") else "/products"
    return see_other(safe_next(form.get("next"), target))


@post("/logout", **PAGE)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    end_session(request)
    return see_other("/login")


@get("/account/password", guards=[requires_user], **PAGE)
async def password_form() -> Template:
    return render("accounts/password.html", errors={}, done=False)


@post("/account/password", guards=[requires_user], **PAGE)
async def password_change(request: Request[Any, Any, Any], me: Me) -> Template:
    """A new password ends every other session and revokes the API tokens (the page says so); this
    browser is signed in again under the new session generation. The current password is checked
    behind the sign-in throttle: a borrowed session must not become a way to guess it."""
    form = await form_dict(request)
    limiter, ip = login_limiter(request.app), client_ip(request)
    wait = await limiter.attempt(me.username, ip)
    if wait:
        message = gettext(locale(request), "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                          minutes=minutes(wait))
        page = render("accounts/password.html", status_code=429, errors={"_": message}, done=False)
        page.headers["Retry-After"] = str(wait)
        return page
    try:
        await change_password(
            me.user_id, form.get("current", ""), form.get("new", ""), form.get("confirm", "")
        )
    except AccountError as exc:
        return render(
            "accounts/password.html",
            status_code=400,
            errors={"_": pick(locale(request), exc.message_vi, exc.message_en)},
            done=False,
        )
    await limiter.succeeded(me.username, ip)
    row = await User.select(User.id, User.session_generation).where(User.id == me.user_id).first()
    sign_in(request, row, acting_for=me.acting_for_producer_id)
    await record(me, "user.password_change", "user", me.user_id, ip=client_ip(request))
    return render("accounts/password.html", errors={}, done=True)


@post("/lang", **PAGE)
async def set_language(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch language; remembered in a cookie and, when signed in, on the account."""
    form = await form_dict(request)
    lang = form.get("lang", "")
    response: Response[Any] = see_other(safe_next(form.get("next"), "/"))
    if lang in LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.secure_cookies,
        )
        me = await current_user(request)
        if me is not None:
            await User.update({User.locale: lang}).where(User.id == me.user_id)
    return response


@get("/admin/users", guards=[requires_admin], **PAGE)
async def users_page() -> Template:
    return await _users_page({}, {})


async def _users_page(
    form: dict[str, str], errors: dict[str, str], status_code: int = 200, created: str = ""
) -> Template:
    users = await User.select(
        User.id,
        User.username,
        User.role,
        User.display_name,
        User.area_province_code,
        User.area_commune_codes,
        User.is_active,
        User.producer,
    ).order_by(User.username)
    for user in users:  # shown in the role form as "code,code"
        user["area_commune_codes"] = ",".join(str(c) for c in db.json_value(user["area_commune_codes"], []))
    return render(
        "accounts/users.html",
        status_code=status_code,
        users=users,
        form=form,
        errors=errors,
        provinces=provinces(),
        created=created,
    )


@post("/admin/users", guards=[requires_admin], **PAGE)
async def users_create(request: Request[Any, Any, Any], me: Me) -> Template:
    """Admins create staff (with an area) and other admins; producers sign up themselves."""
    form = await form_dict(request)
    role = form.get("role", "")
    if role not in ("staff", "admin"):
        return await _users_page(
            form, {"role": gettext(locale(request), "Chọn vai trò cán bộ hoặc quản trị.")}, 400
        )
    province = form.get("area_province_code", "")
    communes = [int(c) for c in form.get("area_commune_codes", "").replace(" ", "").split(",") if c.isdigit()]
    try:
        user = await create_user(
            NewUser(
                username=form.get("username", ""),
                password=form.get("password", ""),
                role=role,
                display_name=form.get("display_name", ""),
                area_province_code=int(province) if province.isdigit() else None,
                area_commune_codes=tuple(communes),
            )
        )
    except AccountError as exc:
        return await _users_page(form, {"_": pick(locale(request), exc.message_vi, exc.message_en)}, 400)
    await record(
        me,
        "user.create",
        "user",
        user.id,
        changes={"username": user.username, "role": role},
        ip=client_ip(request),
    )
    return await _users_page({}, {}, created=user.username)


@post("/admin/users/{user_id:int}/active", guards=[requires_admin], **PAGE)
async def users_set_active(request: Request[Any, Any, Any], me: Me, user_id: FromPath[int]) -> Template:
    """Deactivate or reactivate an account (``active`` = 0 or 1); deactivating ends its sessions
    and revokes its API tokens. Admins cannot deactivate themselves (someone must stay in)."""
    form = await form_dict(request)
    active = form.get("active") == "1"
    if await User.select(User.id).where(User.id == user_id).first() is None:
        raise NotFoundException("Not found.")
    if user_id == me.user_id and not active:
        return await _users_page({}, {"_": gettext(locale(request),
                                                   "Bạn không thể tự khoá tài khoản của mình.")}, 400)
    await set_active(user_id, active)
    await record(me, "user.activate" if active else "user.deactivate", "user", user_id, ip=client_ip(request))
    return await _users_page({}, {})


@post("/admin/users/{user_id:int}/role", guards=[requires_admin], **PAGE)
async def users_set_role(request: Request[Any, Any, Any], me: Me, user_id: FromPath[int]) -> Template:
    """Change a staff or admin account's role or area; its sessions end and its API tokens are
    revoked (they were granted for the old role and area)."""
    form = await form_dict(request)
    province = form.get("area_province_code", "")
    communes = [int(c) for c in form.get("area_commune_codes", "").replace(" ", "").split(",") if c.isdigit()]
    if await User.select(User.id).where(User.id == user_id).first() is None:
        raise NotFoundException("Not found.")
    try:
        await change_role(user_id, form.get("role", ""), int(province) if province.isdigit() else None,
                          tuple(communes))
    except AccountError as exc:
        return await _users_page({}, {"_": pick(locale(request), exc.message_vi, exc.message_en)}, 400)
    await record(me, "user.role_change", "user", user_id,
                 changes={"role": form.get("role", ""), "area_province_code": province, "communes": communes},
                 ip=client_ip(request))
    return await _users_page({}, {})


@post("/admin/users/{user_id:int}/reset-link", guards=[requires_staff], **PAGE)
async def reset_link_create(request: Request[Any, Any, Any], me: Me, user_id: FromPath[int]) -> Template:
    """Staff make links for producer accounts in their area; admins for anyone."""
    target = await User.select().where(User.id == user_id).first()
    if target is None:
        raise NotFoundException("Not found.")
    if not me.is_admin:
        if target["role"] != "producer" or target["producer"] is None:
            raise PermissionDeniedException("Staff can only reset producer accounts.")
        await get_producer(me, int(target["producer"]))
    link = await make_reset_link(user_id, me.user_id, request.app.state.settings.base_url)
    await record(
        me, "user.reset_link", "user", user_id, producer_id=target["producer"], ip=client_ip(request)
    )
    return render("accounts/reset_link.html", link=link, target=target)


@get("/reset/{token:str}", **PAGE)
async def reset_form(token: FromPath[str]) -> Template:
    valid = await reset_target(token) is not None
    return render(
        "accounts/reset.html",
        token=token,
        valid=valid,
        errors={},
        done=False,
        status_code=200 if valid else 404,
    )


@post("/reset/{token:str}", **PAGE)
async def reset_submit(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    form = await form_dict(request)
    try:
        user_id = await use_reset_link(token, form.get("new", ""), form.get("confirm", ""))
    except AccountError as exc:
        valid = await reset_target(token) is not None
        return render(
            "accounts/reset.html",
            status_code=400,
            token=token,
            valid=valid,
            done=False,
            errors={"_": pick(locale(request), exc.message_vi, exc.message_en)},
        )
    await record(None, "user.password_reset", "user", user_id, ip=client_ip(request))
    return render("accounts/reset.html", token=token, valid=False, errors={}, done=True)


@get("/account/tokens", guards=[requires_user], **PAGE)
async def tokens_page(me: Me) -> Template:
    return render("accounts/tokens.html", tokens=await list_tokens(me.user_id), created="")


@post("/account/tokens", guards=[requires_user], **PAGE)
async def tokens_create(request: Request[Any, Any, Any], me: Me) -> Template:
    """The clear token is shown on this response only; afterwards only its hash exists."""
    require_session(me)
    form = await form_dict(request)
    row, clear = await create_token(me.user_id, form.get("name", ""))
    await record(me, "token.create", "api_token", row["id"], ip=client_ip(request))
    return render("accounts/tokens.html", tokens=await list_tokens(me.user_id), created=clear)


@post("/account/tokens/{token_id:int}/revoke", guards=[requires_user], **PAGE)
async def tokens_revoke(request: Request[Any, Any, Any], me: Me, token_id: FromPath[int]) -> Redirect:
    if not await revoke_token(me.user_id, token_id):
        raise NotFoundException("Not found.")
    await record(me, "token.revoke", "api_token", token_id, ip=client_ip(request))
    return see_other("/account/tokens")



@get("/forgot", **PAGE)
async def forgot_password() -> Template:
    """Accounts here are made and reset by staff (commune or province officers), not by e-mail: the
    page says whom to ask and what happens next, and what staff do to help."""
    return render("accounts/forgot.html")


ROUTES = [
    login_form,
    forgot_password,
    login,
    logout,
    password_form,
    password_change,
    set_language,
    users_page,
    users_create,
    users_set_active,
    users_set_role,
    reset_link_create,
    reset_form,
    reset_submit,
    tokens_page,
    tokens_create,
    tokens_revoke,
]
