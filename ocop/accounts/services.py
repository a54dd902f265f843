"""Creating and looking up accounts; used by the CLI, the demo seed and the admin pages."""

from __future__ import annotations

from dataclasses import dataclass

from ocop.accounts.passwords import MIN_LENGTH, ahash_password, averify_password, hash_password, needs_rehash
from ocop.accounts.tables import ApiToken, User
from ocop.domain.errors import Refused
from ocop.domain.text import clean

ROLES = ("producer", "staff", "admin")


class AccountError(Refused):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password: str
    role: str
    display_name: str = ""
    producer_id: int | None = None
    area_province_code: int | None = None
    area_commune_codes: tuple[int, ...] = ()


async def create_user(new: NewUser) -> User:
    username = clean(new.username).lower()
    if not username:
        raise AccountError("username_required", "A username is required.", "Cần nhập tên đăng nhập.")
    if new.role not in ROLES:
        raise AccountError(
            "bad_role",
            f"Role must be one of {', '.join(ROLES)}.",
            f"Vai trò phải là một trong: {', '.join(ROLES)}.",
        )
    if len(new.password) < MIN_LENGTH:
        raise AccountError(
            "password_too_short",
            f"The password needs at least {MIN_LENGTH} characters.",
            f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự.",
        )
    if new.role == "producer" and new.producer_id is None:
        raise AccountError(
            "producer_required",
            "A producer account belongs to a producer.",
            "Tài khoản chủ thể phải gắn với một chủ thể OCOP.",
        )
    if new.role == "staff" and new.area_province_code is None:
        raise AccountError(
            "area_required",
            "Staff need an area (a province, optionally communes).",
            "Cán bộ cần có địa bàn phụ trách (tỉnh, có thể kèm danh sách xã).",
        )
    if await User.exists().where(User.username == username):
        raise AccountError("username_taken", "This username is taken.", "Tên đăng nhập đã được sử dụng.")
    user = User(
        username=username,
        password_hash=await ahash_password(new.password),
        role=new.role,
        display_name=clean(new.display_name),
        producer=new.producer_id,
        area_province_code=new.area_province_code,
        area_commune_codes=list(new.area_commune_codes),
    )
    await user.save()
    return user


async def authenticate(username: str, password: str) -> dict[str, object] | None:
    """The active user with this username and password, or None. Re-hashes outdated hashes.
    The hash is checked off the event loop (``ocop.accounts.passwords``); callers throttle first
    (``ocop.accounts.ratelimit``)."""
    row = await User.select().where(User.username == clean(username).lower()).first()
    if row is None:
        await averify_password(_DUMMY_HASH, password)  # same cost whether or not the user exists
        return None
    if not await averify_password(row["password_hash"], password) or not row["is_active"]:
        return None
    if needs_rehash(row["password_hash"]):
        await User.update({User.password_hash: await ahash_password(password)}).where(User.id == row["id"])
    return row


_DUMMY_HASH = hash_password("not-a-real-password-0")


def check_new_password(password: str, confirm: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountError(
            "password_too_short",
            f"The password needs at least {MIN_LENGTH} characters.",
            f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự.",
        )
    if password != confirm:
        raise AccountError("password_mismatch", "The two passwords differ.", "Hai mật khẩu không khớp.")


async def end_sessions(user_id: int) -> None:
    """End every session of the user and revoke every API token they hold.

    Called when what a session or token was granted on no longer holds: a password change or reset
    (whoever knew the old password, or holds a token made with it, is out), a deactivation, a change
    of role or area (a token made for a staff area must not carry over to another). Sessions end by
    moving the user's session generation on (``ocop.accounts.sessions``): every web process refuses
    the old ones at their next request, with no list of sessions to find. A caller that keeps the
    acting user signed in starts a fresh session for them (``ocop.accounts.sessions.sign_in``)."""
    from datetime import UTC, datetime

    await User.update({User.session_generation: User.session_generation + 1}).where(User.id == user_id)
    await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
        (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
    )


async def change_password(user_id: int, current: str, new: str, confirm: str) -> None:
    """Set a new password after checking the current one; ends the user's sessions and tokens
    (:func:`end_sessions`; the page signs the user in again)."""
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    if row is None or not await averify_password(row["password_hash"], current):
        raise AccountError(
            "wrong_password", "The current password is wrong.", "Mật khẩu hiện tại không đúng."
        )
    check_new_password(new, confirm)
    await User.update({User.password_hash: await ahash_password(new)}).where(User.id == user_id)
    await end_sessions(user_id)


async def set_active(user_id: int, active: bool) -> None:
    """Deactivate (or reactivate) an account; deactivating ends its sessions and tokens."""
    await User.update({User.is_active: active}).where(User.id == user_id)
    if not active:
        await end_sessions(user_id)


async def change_role(
    user_id: int, role: str, area_province_code: int | None = None, area_commune_codes: tuple[int, ...] = ()
) -> None:
    """Give a staff or admin account another role or area; ends its sessions and tokens, which were
    granted for the old one. Producer accounts belong to their producer and keep their role."""
    if role not in ("staff", "admin"):
        raise AccountError("bad_role", "Choose staff or admin.", "Chọn vai trò cán bộ hoặc quản trị.")
    if role == "staff" and area_province_code is None:
        raise AccountError(
            "area_required",
            "Staff need an area (a province, optionally communes).",
            "Cán bộ cần có địa bàn phụ trách (tỉnh, có thể kèm danh sách xã).",
        )
    row = await User.select(User.role).where(User.id == user_id).first()
    if row is None or row["role"] == "producer":
        raise AccountError("not_staff", "Only staff and admin accounts change role here.",
                           "Chỉ đổi vai trò của tài khoản cán bộ hoặc quản trị.")
    await User.update({
        User.role: role,
        User.area_province_code: area_province_code if role == "staff" else None,
        User.area_commune_codes: list(area_commune_codes) if role == "staff" else [],
    }).where(User.id == user_id)
    await end_sessions(user_id)


RESET_VALID_HOURS = 48


async def make_reset_link(user_id: int, created_by: int, base_url: str) -> str:
    """A one-time link (valid 48 h) that lets the user choose a new password; only its hash is kept."""
    import secrets
    from datetime import UTC, datetime, timedelta

    from ocop.accounts.tables import PasswordReset
    from ocop.accounts.tokens import hash_token

    token = secrets.token_urlsafe(32)
    await PasswordReset.insert(
        PasswordReset(
            user=user_id,
            created_by=created_by,
            token_hash=hash_token(token),
            expires_at=datetime.now(UTC) + timedelta(hours=RESET_VALID_HOURS),
        )
    )
    return f"{base_url.rstrip('/')}/reset/{token}"


async def reset_target(token: str) -> dict[str, object] | None:
    """The unused, unexpired reset row for ``token``, or None."""
    from datetime import UTC, datetime

    from ocop.accounts.tables import PasswordReset
    from ocop.accounts.tokens import hash_token

    row = (
        await PasswordReset.select()
        .where((PasswordReset.token_hash == hash_token(token)) & PasswordReset.used_at.is_null())
        .first()
    )
    if row is None or row["expires_at"] <= datetime.now(UTC):
        return None
    return row


async def use_reset_link(token: str, new: str, confirm: str) -> int:
    """Set the new password and burn the link; returns the user id."""
    from datetime import UTC, datetime

    from ocop.accounts.tables import PasswordReset

    row = await reset_target(token)
    if row is None:
        raise AccountError(
            "reset_link_invalid",
            "This link is invalid, used or expired.",
            "Đường dẫn không hợp lệ, đã dùng hoặc đã hết hạn.",
        )
    check_new_password(new, confirm)
    await User.update({User.password_hash: await ahash_password(new)}).where(User.id == row["user"])
    await PasswordReset.update({PasswordReset.used_at: datetime.now(UTC)}).where(
        PasswordReset.id == row["id"]
    )
    await end_sessions(int(row["user"]))  # type: ignore[arg-type]
    return int(row["user"])  # type: ignore[arg-type]
