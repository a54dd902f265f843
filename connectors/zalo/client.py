"""The ZNS protocol and nothing else: send one template message, refresh the Official Account's
token through Zalo OAuth v4, and map Zalo's answers to typed outcomes.

- Send: ``POST {api}/message/template`` with the header ``access_token`` and the JSON body
  ``{"phone", "template_id", "template_data", "tracking_id"}``; Zalo answers HTTP 200 with
  ``{"error": 0, "message": "Success", "data": {"msg_id", "sent_time", ...}}`` or a negative
  ``error`` (codes from Zalo's "Cách xử lý mã lỗi" table, zalo.cloud/zns/guidelines/handle-error-code).
- Refresh: ``POST {oauth}/v4/oa/access_token`` with the header ``secret_key`` and the form
  ``app_id``, ``refresh_token``, ``grant_type=refresh_token``; the answer carries a new
  ``access_token`` (about 25 hours), a new ``refresh_token`` (single use, about 3 months) and
  ``expires_in`` in seconds (sent as text). A refused refresh answers ``error`` (negative) and
  ``error_description``.

Phone numbers go in international form without "+" (84912345678); the caller parses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import AuthExpiredError, PermanentError, RetryableError

API_URL = "https://business.openapi.zalo.me"
OAUTH_URL = "https://oauth.zaloapp.com"

# ZNS error codes (Zalo's table). Those not listed are treated as passing (retry later).
ACCESS_TOKEN_INVALID = -124
PERMANENT = {
    -101: "application invalid", -102: "application not existed", -103: "application not activated",
    -104: "app secret key invalid", -105: "application not linked to any OA",
    -108: "phone number invalid", -109: "template ID invalid", -111: "template data empty",
    -112: "template data invalid", -118: "Zalo account not existed",
}
REFRESH_TOKEN_INVALID = -14014


class ZaloError(PermanentError):
    """Zalo refused the message for good (a bad phone, template or data): send it another way."""


@dataclass(frozen=True, slots=True)
class OaTokens:
    access_token: str
    refresh_token: str
    access_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Sent:
    msg_id: str
    sent_time: str


class ZnsClient:
    """One Official Account's ZNS calls. ``api_url``/``oauth_url`` are configuration: the real
    hosts in production, the sandbox's ``/zalo/business`` and ``/zalo/oauth`` elsewhere."""

    def __init__(self, *, app_id: str, secret_key: str, api_url: str = API_URL, oauth_url: str = OAUTH_URL,
                 timeout_s: float = 10.0, http: httpx.AsyncClient | None = None) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=timeout_s)
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _post(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise RetryableError(f"Zalo did not answer: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(f"Zalo answered HTTP {response.status_code}", code=str(response.status_code))
        try:
            body = response.json()
        except ValueError as exc:
            raise RetryableError(f"Zalo answered HTTP {response.status_code} without JSON") from exc
        return body if isinstance(body, dict) else {}

    async def send_template(self, access_token: str, *, phone: str, template_id: str,
                            template_data: dict[str, str], tracking_id: str) -> Sent:
        body = await self._post(f"{self.api_url}/message/template", headers={"access_token": access_token},
                                json={"phone": phone, "template_id": template_id, "template_data": template_data,
                                      "tracking_id": tracking_id})
        code = int(body.get("error", -100))
        message = str(body.get("message", ""))
        if code == 0:
            data = body.get("data") or {}
            return Sent(msg_id=str(data.get("msg_id", "")), sent_time=str(data.get("sent_time", "")))
        if code == ACCESS_TOKEN_INVALID:
            raise AuthExpiredError(f"Zalo: {message or 'access token invalid'}", code=str(code))
        if code in PERMANENT:
            raise ZaloError(f"Zalo {code}: {message or PERMANENT[code]}", code=str(code))
        raise RetryableError(f"Zalo {code}: {message or 'unknown error'}", code=str(code))

    async def refresh(self, refresh_token: str, *, now: datetime | None = None) -> OaTokens:
        body = await self._post(f"{self.oauth_url}/v4/oa/access_token", headers={"secret_key": self.secret_key},
                                data={"app_id": self.app_id, "refresh_token": refresh_token,
                                      "grant_type": "refresh_token"})
        if not body.get("access_token"):
            code = body.get("error", "")
            raise PermanentError(f"Zalo OAuth refused the refresh: {body.get('error_description') or code}",
                                 code=str(code))
        expires_in = int(str(body.get("expires_in") or "90000"))
        return OaTokens(access_token=str(body["access_token"]), refresh_token=str(body.get("refresh_token", "")),
                        access_expires_at=(now or datetime.now(UTC)) + timedelta(seconds=expires_in))
