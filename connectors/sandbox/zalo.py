"""Zalo Notification Service (ZNS) emulation, served under ``/zalo`` beside the marketplaces.

It checks requests as Zalo documents them and answers in Zalo's words (HTTP 200 with a negative
``error`` code), and records every message it accepted so tests and the overview page can read
what a producer would have received on their phone:

- ``POST /zalo/oauth/v4/oa/access_token`` (Zalo OAuth v4, real host ``oauth.zaloapp.com``): header
  ``secret_key``, form ``app_id``, ``refresh_token``, ``grant_type=refresh_token``. The refresh
  token is single use: each answer carries a new pair; an unknown or used one is refused.
- ``POST /zalo/business/message/template`` (real host ``business.openapi.zalo.me``): header
  ``access_token`` (-124 when unknown or expired), JSON body with ``phone`` in ``84…`` form (-108),
  a ``template_id`` the Official Account has (-109), a non-empty ``template_data`` (-111) holding
  every key of the template as text (-112), and a ``tracking_id``.
- ``POST /_admin/zalo`` forces the next answers (e.g. ``{"next_errors": [-118]}``: "Zalo account
  not existed"), clears the record (``clear``) or starts the tokens afresh (``reset_tokens``: only
  the configured refresh token is valid again); ``GET /_admin/zalo`` lists the accepted messages
  and the refused sends.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.params import JSONBody

from connectors.sandbox.config import ZaloAppConfig

PHONE = re.compile(r"^84\d{9}$")
MAX_VALUE_CHARS = 200  # ZNS parameters are bounded; the widest kinds (product, address) take 200
ERRORS = {
    -100: "Unknown error", -104: "App secret key invalid", -108: "Phone number invalid",
    -109: "Template ID invalid", -111: "Template data empty", -112: "Template data invalid",
    -118: "Zalo account not existed", -124: "Access token invalid",
}


class ZaloMessage(msgspec.Struct):
    msg_id: str
    phone: str
    template_id: str
    template_data: dict[str, str]
    tracking_id: str
    sent_at: float


@dataclass
class ZaloState:
    config: ZaloAppConfig
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    refresh_tokens: set[str] = field(default_factory=set)  # unused ones
    messages: list[ZaloMessage] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (error, phone) of refused sends
    next_errors: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.refresh_tokens.add(self.config.refresh_token)

    def refresh(self, app_id: str, secret_key: str, refresh_token: str, grant_type: str) -> dict[str, Any]:
        with self.lock:
            if app_id != self.config.app_id or secret_key != self.config.secret_key:
                return {"error": -104, "error_name": "Invalid app", "error_description": "app_id or secret_key invalid"}
            if grant_type != "refresh_token" or refresh_token not in self.refresh_tokens:
                return {"error": -14014, "error_name": "Invalid parameter",
                        "error_description": "refresh_token is invalid or already used"}
            self.refresh_tokens.discard(refresh_token)
            access, fresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            self.access_tokens[access] = self.clock() + self.config.access_token_ttl_s
            self.refresh_tokens.add(fresh)
            return {"access_token": access, "refresh_token": fresh, "expires_in": str(self.config.access_token_ttl_s)}

    def send(self, access_token: str, body: Any) -> dict[str, Any]:
        with self.lock:
            if self.access_tokens.get(access_token, 0) <= self.clock():
                return _error(-124)
            if not isinstance(body, dict):
                return _error(-100)
            phone = str(body.get("phone", ""))
            template_id = str(body.get("template_id", ""))
            data = body.get("template_data")
            code = 0
            if self.next_errors:
                code = self.next_errors.pop(0)
            elif not PHONE.match(phone):
                code = -108
            elif template_id not in self.config.templates:
                code = -109
            elif not isinstance(data, dict) or not data:
                code = -111
            elif any(not isinstance(data.get(k), str) or not data[k] or len(data[k]) > MAX_VALUE_CHARS
                     for k in self.config.templates[template_id]) or not str(body.get("tracking_id", "")):
                code = -112
            if code:
                self.refused.append((code, phone))
                return _error(code)
            message = ZaloMessage(msg_id=secrets.token_hex(16), phone=phone, template_id=template_id,
                                  template_data={str(k): str(v) for k, v in data.items()},
                                  tracking_id=str(body["tracking_id"]), sent_at=self.clock())
            self.messages.append(message)
            del self.messages[:-5000]
            return {"error": 0, "message": "Success",
                    "data": {"msg_id": message.msg_id, "sent_time": str(int(message.sent_at * 1000)),
                             "quota": {"dailyQuota": "500", "remainingQuota": "499"}}}


def _error(code: int) -> dict[str, Any]:
    return {"error": code, "message": ERRORS.get(code, "Unknown error")}


def _json(data: object) -> Response[bytes]:
    return Response(msgspec.json.encode(data), status_code=200, media_type=MediaType.JSON)


def router(state: ZaloState) -> Router:
    @post("/oauth/v4/oa/access_token", status_code=200)
    async def access_token(request: Request[Any, Any, Any]) -> Response[bytes]:
        form = await request.form()
        return _json(state.refresh(str(form.get("app_id", "")), request.headers.get("secret_key", ""),
                                   str(form.get("refresh_token", "")), str(form.get("grant_type", ""))))

    @post("/business/message/template", status_code=200)
    async def message_template(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            return _json(_error(-100))
        return _json(state.send(request.headers.get("access_token", ""), body))

    return Router("/zalo", route_handlers=[access_token, message_template])


def admin_router(state: ZaloState) -> Router:
    @get("/zalo")
    async def messages() -> Response[bytes]:
        return _json({"messages": state.messages, "refused": state.refused})

    @post("/zalo", status_code=200)
    async def control(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        with state.lock:
            if "next_errors" in data:
                state.next_errors = [int(c) for c in data["next_errors"]]
            if data.get("clear"):
                state.messages.clear()
                state.refused.clear()
            if data.get("reset_tokens"):  # as if the Official Account had just been set up
                state.access_tokens.clear()
                state.refresh_tokens = {state.config.refresh_token}
        return _json({"next_errors": state.next_errors})

    return Router("/_admin", route_handlers=[messages, control])


def overview_section(state: ZaloState, when: Callable[[float], str]) -> str:
    """The overview page's Zalo part: the last messages, as the producer's phone would show them."""
    e = html.escape
    parts = ["<h2>Zalo (ZNS)</h2><p>Official Account app " + e(state.config.app_id) + "; "
             f"{len(state.config.templates)} mẫu tin (templates).</p>",
             "<table><tr><th>Lúc</th><th>Số điện thoại</th><th>Mẫu</th><th>Nội dung</th></tr>"]
    for m in reversed(state.messages[-30:]):
        data = "; ".join(f"{e(k)}: {e(v)}" for k, v in m.template_data.items())
        parts.append(f"<tr><td>{when(m.sent_at)}</td><td>{e(m.phone)}</td><td>{e(m.template_id)}</td>"
                     f"<td>{data}</td></tr>")
    parts.append("</table>")
    return "".join(parts)
