"""The sandbox marketplace: one ASGI app serving the four protocols under /shopee, /lazada, /tiktok, /tiki,
and, given ports of their own (:class:`OwnPorts`), each marketplace at the root of its port.

Plug-in rule (see connectors/README.md): ``connectors/sandbox/<name>.py`` exposes
``SPEC: MarketplaceSpec``; ``create_sandbox_app`` mounts every module that
exists. Besides the marketplace routers it serves
- ``/_admin/...``: configuration, fault injection, review settings, order
  generation, forced item statuses, and the inspection of items by seller SKU;
- ``/``: an HTML page with the shops, items and orders (for training producers).
"""

from __future__ import annotations

import asyncio
import html
import importlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, Router, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox.config import MARKETPLACES, FaultConfig, PushConfig, SandboxConfig
from connectors.sandbox.push import PUSHING, Pusher
from connectors.sandbox.spec import OWN_PORT, MarketplaceSpec
from connectors.sandbox.state import SandboxState
from connectors.sandbox.zalo import ZaloState
from connectors.sandbox.zalo import admin_router as zalo_admin_router
from connectors.sandbox.zalo import overview_section as zalo_overview
from connectors.sandbox.zalo import router as zalo_router


def load_specs(names: tuple[str, ...] = MARKETPLACES) -> list[MarketplaceSpec]:
    """The emulation of each marketplace named: ``connectors.sandbox.<name>.SPEC``, one module per
    marketplace of ``connectors.registry`` (a missing one is an error, not a silent gap)."""
    return [importlib.import_module(f"connectors.sandbox.{name}").SPEC for name in names]


def _json(data: object, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(data), status_code=status, media_type=MediaType.JSON)


def _admin_router(state: SandboxState, pusher: Pusher) -> Router:
    @get("/config")
    async def config() -> Response[bytes]:
        return _json({"apps": state.config.apps, "shops": state.config.shops})

    @get("/faults/{marketplace:str}")
    async def get_faults(marketplace: FromPath[str]) -> Response[bytes]:
        return _json(state.fault_config(marketplace))

    @put("/faults/{marketplace:str}")
    async def put_faults(marketplace: FromPath[str], request: Request) -> Response[bytes]:
        cfg = msgspec.json.decode(await request.body(), type=FaultConfig)
        try:
            state.set_faults(marketplace, cfg)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json(cfg)

    @post("/review", status_code=200)
    async def review(data: JSONBody[dict[str, float]]) -> Response[bytes]:
        if "review_seconds" in data:
            state.config.review_seconds = float(data["review_seconds"])
        if "rejection_share" in data:
            state.config.rejection_share = float(data["rejection_share"])
        return _json(
            {"review_seconds": state.config.review_seconds, "rejection_share": state.config.rejection_share}
        )

    @post("/limits", status_code=200)
    async def limits(data: JSONBody[dict[str, float]]) -> Response[bytes]:
        for name in ("app_calls_per_s", "shop_calls_per_s"):
            if name in data:
                setattr(state.config, name, float(data[name]))
        return _json({"app_calls_per_s": state.config.app_calls_per_s, "shop_calls_per_s": state.config.shop_calls_per_s})

    @post("/orders", status_code=200)
    async def orders(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        made = state.generate_orders(
            data["marketplace"], str(data["shop_id"]), int(data["count"]),
            float(data["since"]), float(data["until"]), data.get("status"),
        )
        return _json({"order_ids": [o.order_id for o in made]})

    @post("/item_status", status_code=200)
    async def item_status(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        item = state.find_item(data["marketplace"], str(data["shop_id"]), int(data["item_id"]))
        if item is None:
            return _json({"error": "no such item"}, 404)
        with state.lock:
            item.status, item.reason = data["status"], data.get("reason")
        return _json({"item_id": item.item_id, "status": item.status})

    @get("/items")
    async def items() -> Response[bytes]:
        return _json(state.inspection())

    @get("/push/{marketplace:str}")
    async def get_push(marketplace: FromPath[str]) -> Response[bytes]:
        return _json(state.config.pushes.get(marketplace, PushConfig()))

    @put("/push/{marketplace:str}")
    async def put_push(marketplace: FromPath[str], request: Request) -> Response[bytes]:
        """The callback URL of the marketplace's app, and push faults (``PushConfig``)."""
        if marketplace not in PUSHING:
            return _json({"error": f"{marketplace} sends no pushes (pushing: {', '.join(PUSHING)})"}, 400)
        try:
            cfg = msgspec.json.decode(await request.body(), type=PushConfig)
        except msgspec.DecodeError as exc:
            return _json({"error": str(exc)}, 400)
        state.config.pushes[marketplace] = cfg
        return _json(cfg)

    @get("/pushes")
    async def pushes() -> Response[bytes]:
        return _json(pusher.overview())

    @post("/deauthorize", status_code=200)
    async def deauthorize(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        done = pusher.deauthorize(str(data["marketplace"]), str(data["shop_id"]))
        return _json({"deauthorized": done}, 200 if done else 404)

    @post("/authorization_expiry", status_code=200)
    async def authorization_expiry(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        expires = float(data.get("expires_at") or state.clock() + 7 * 86400)
        pusher.authorization_expiring(str(data["marketplace"]), str(data["shop_id"]), expires)
        return _json({"expires_at": expires})

    return Router("/_admin", route_handlers=[config, get_faults, put_faults, review, limits, orders, item_status, items,
                                             get_push, put_push, pushes, deauthorize, authorization_expiry])


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).astimezone().strftime("%d/%m/%Y %H:%M")


def _vnd(amount: int) -> str:
    """``150.000 ₫``, as Vietnamese readers write money (reference/domain.md)."""
    return f"{amount:,}".replace(",", ".") + " ₫"


def _overview_page(state: SandboxState, pusher: Pusher | None = None) -> str:
    """Shops, items and orders, server-rendered (no assets: works offline)."""
    e = html.escape
    now = state.clock()
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>Sàn thử nghiệm OCOP</title><style>body{font-family:sans-serif;margin:1rem}"
        "table{border-collapse:collapse;margin-bottom:1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem}"
        ".rejected,.banned{color:#b00}.live{color:#070}</style></head><body>",
        "<h1>Sàn thử nghiệm (sandbox marketplace)</h1>",
    ]
    for (mkt, shop_id), shop in sorted(state.shops.items()):
        parts.append(f"<h2>{e(mkt)} · {e(shop.name)} <small>(shop {e(shop_id)})</small></h2>")
        items = [state.settle(i) for i in state.shop_items(mkt, shop_id).values()]
        parts.append("<h3>Sản phẩm</h3><table><tr><th>Seller SKU</th><th>ID</th><th>Tên</th>"
                     "<th>Giá</th><th>Tồn</th><th>Trạng thái</th></tr>")
        for i in items:
            reason = f" — {e(i.reason)}" if i.reason else ""
            parts.append(
                f"<tr><td>{e(i.seller_sku)}</td><td>{i.item_id}</td><td>{e(i.name)}</td>"
                f"<td>{_vnd(i.price_vnd)}</td><td>{i.stock}</td>"
                f"<td class='{e(i.status)}'>{e(i.status)}{reason}</td></tr>"
            )
            for m in i.models.values():  # each variant with the stock this marketplace shows for it
                options = " · ".join(f"{e(n)}: {e(v)}" for (n, _), v in zip(i.tiers, m.options))
                parts.append(
                    f"<tr class='variant'><td>↳ {e(m.seller_sku)}</td><td>{m.model_id}</td><td>{options}</td>"
                    f"<td>{_vnd(m.price_vnd)}</td><td>{m.stock}</td><td></td></tr>"
                )
        parts.append("</table>")
        orders = sorted(state.shop_orders(mkt, shop_id).values(), key=lambda o: -o.created_at)[:20]
        parts.append("<h3>Đơn hàng gần đây</h3><table><tr><th>Mã đơn</th><th>Ngày</th><th>Dòng</th>"
                     "<th>Tổng</th><th>Trạng thái</th></tr>")
        for o in orders:
            lines = "; ".join(f"{e(l.name)}{f' ({e(l.model_name)})' if l.model_name else ''} × {l.quantity}"
                              for l in o.lines)
            parts.append(
                f"<tr><td>{e(o.order_id)}</td><td>{_ts(o.created_at)}</td><td>{lines}</td>"
                f"<td>{_vnd(o.total_vnd)}</td><td>{e(o.status_at(now))}</td></tr>"
            )
        parts.append("</table>")
    if pusher is not None:
        parts.append(_pushes_section(pusher))
    zalo = getattr(state, "zalo", None)
    if zalo is not None:
        parts.append(zalo_overview(zalo, _ts))
    parts.append("</body></html>")
    return "".join(parts)


def _pushes_section(pusher: Pusher) -> str:
    """What the sandbox pushed to each app's callback URL, and the answers it got (newest first)."""
    e = html.escape
    counts = pusher.counts
    parts = ["<h2>Thông báo đẩy đã gửi <small>(pushes sent)</small></h2><p>",
             ", ".join(f"{e(k)}: {v}" for k, v in counts.items()), "</p><ul>"]
    for marketplace in PUSHING:
        cfg = pusher.config(marketplace)
        parts.append(f"<li>{e(marketplace)}: {e(cfg.callback_url) if cfg else 'chưa cấu hình (not configured)'}</li>")
    parts.append("</ul><table><tr><th>Lúc</th><th>Sàn</th><th>Shop</th><th>Loại</th><th>Nội dung</th>"
                 "<th>Lần</th><th>Ghi chú</th><th>Trả lời</th></tr>")
    for r in list(pusher.sent)[-50:][::-1]:
        parts.append(f"<tr><td>{_ts(r.at)}</td><td>{e(r.marketplace)}</td><td>{e(r.shop_id)}</td><td>{e(r.kind)}</td>"
                     f"<td>{e(r.summary)}</td><td>{r.attempt}</td><td>{e(r.note)}</td><td>{e(r.answer)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class FaultMiddleware:
    """Injects faults into API requests, each in the marketplace's own words.

    Kinds: 429 (+Retry-After) and 5xx answered before the handler runs; a dropped
    connection (headers and half a body, then the socket closes); an expired token
    (the handler expires the presented token for real, see ``spec.forced_expiry``);
    a timeout after the write took effect (the handler runs, the answer is held).
    """

    def __init__(self, app: ASGIApp, state: SandboxState, specs: list[MarketplaceSpec]) -> None:
        self.app = app
        self.state = state
        self.specs = {s.name: s for s in specs}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        name = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        spec = self.specs.get(name)
        rel = path[len(name) + 1:]
        if spec is None or not rel.startswith(spec.api_prefixes):
            await self.app(scope, receive, send)
            return
        is_write = scope["method"] not in ("GET", "HEAD")
        log = self.state.request_log
        log.append((name, scope["method"], rel))
        if len(log) > 50_000:  # a long-running training sandbox must not grow without bound
            del log[:25_000]
        kind = self.state.roll_fault(name, is_write=is_write, has_token=spec.token_call(rel))
        cfg = self.state.fault_config(name)
        if kind in ("429", "5xx"):
            status, headers, body = (
                spec.rate_limited(cfg.retry_after_s) if kind == "429" else spec.server_error()
            )
            await _answer(send, status, headers, body)
        elif kind == "drop":
            # Read the request first: a socket closed with unread bytes is reset (RST)
            # instead of closed, and the client would see a different error by timing.
            await _drain(receive)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")]})
            await send({"type": "http.response.body", "body": b'{"request_id":"', "more_body": True})
            # Returning now makes the server close the socket mid-body.
        elif kind == "timeout_after_write":
            held: list[Any] = []

            async def hold(message: Any) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await asyncio.sleep(cfg.timeout_delay_s)
            for message in held:
                try:
                    await send(message)
                except Exception:  # the client gave up long ago: expected
                    return
        else:
            if kind == "expired_token":
                scope["sandbox_fault"] = "expired_token"  # type: ignore[typeddict-unknown-key]
            await self.app(scope, receive, send)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _answer(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class OwnPorts:
    """A request that arrived on a marketplace's own port is that marketplace's, at the root.

    Clients that sign the URL's whole path (TikTok Shop's SDKs, Shopee's partner API clients) sign
    ``/product/202309/products``, not ``/tiktok/product/202309/products``; given the root of a port
    of its own, such a client works unchanged. The path is mapped onto the combined layout
    (``/tiktok`` + path) before fault injection and routing, and the request is marked so that links
    the marketplace hands out point back at the same root (``spec.marketplace_base_url``)."""

    def __init__(self, app: ASGIApp, ports: Mapping[int, str]) -> None:
        self.app = app
        self.ports = dict(ports)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") if scope["type"] == "http" else None
        name = self.ports.get(server[1]) if server else None
        if name is not None:
            prefix = "/" + name
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            scope = {**scope, "path": prefix + scope["path"], "raw_path": prefix.encode() + raw_path,
                     OWN_PORT: name}  # type: ignore[assignment]
        await self.app(scope, receive, send)


def create_sandbox_app(
    config: SandboxConfig | None = None, state: SandboxState | None = None,
    own_ports: Mapping[int, str] | None = None,
) -> ASGIApp:
    """The whole sandbox as one ASGI app. ``app.state.sandbox`` (Litestar) holds the world.
    ``own_ports`` maps a listening port to the marketplace served at its root."""
    state = state or SandboxState(config or SandboxConfig.default())
    specs = load_specs()
    pusher = Pusher(state)

    @get("/", media_type=MediaType.HTML)
    async def overview() -> str:
        return _overview_page(state, pusher)

    routers = [Router(f"/{s.name}", route_handlers=[s.router(state)]) for s in specs]
    # Zalo is not a marketplace: its ZNS emulation shares the sandbox's clock and overview page.
    zalo = getattr(state, "zalo", None) or ZaloState(state.config.zalo, clock=state.clock)
    state.zalo = zalo  # type: ignore[attr-defined]
    app = Litestar(
        route_handlers=[overview, _admin_router(state, pusher), zalo_admin_router(zalo), zalo_router(zalo),
                        *routers],
        debug=False, logging_config=None, on_startup=[pusher.start], on_shutdown=[pusher.stop],
    )
    app.state.sandbox = state
    state.pusher = pusher
    wrapped: ASGIApp = FaultMiddleware(app, state, specs)
    if own_ports:
        wrapped = OwnPorts(wrapped, own_ports)
    wrapped.sandbox = state  # type: ignore[attr-defined]
    return wrapped
