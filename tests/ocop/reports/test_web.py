"""The dashboard page, the JSON API and the export endpoints, through the real app on both engines."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl

from ocop.accounts.tokens import create_token
from tests.ocop.reports.conftest import COMMUNE_A, COMMUNE_B, COMMUNE_H, GIA_LAI, INJECTION, Seed
from tests.ocop.web.support import login, make_user


async def bearer(username: str, role: str, **kw: Any) -> dict[str, str]:
    user_id = await make_user(username, role, **kw)
    _, token = await create_token(user_id, "reports test")
    return {"authorization": f"Bearer {token}"}


async def test_api_figures_follow_the_scope_of_the_caller(seeded: Seed, db: Any, app_client: Any,
                                                          redis_url: str) -> None:
    admin = await bearer("admin", "admin")
    province = await bearer("tinh", "staff", province=GIA_LAI)
    commune = await bearer("xa", "staff", province=GIA_LAI, communes=(COMMUNE_A,))
    producer = await bearer("banhtrang", "producer", producer_id=seeded.ids["P2"])
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        expected = {"admin": admin, "province": province, "commune": commune, "producer": producer}
        revenue = {}
        for who, headers in expected.items():
            answer = await client.get("/api/v1/reports/sales?period=2026-02", headers=headers)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            revenue[who] = (body["current"]["revenue_vnd"], body["previous"]["revenue_vnd"])
        assert revenue == {"admin": (530_000, 50_000), "province": (440_000, 50_000),
                           "commune": (300_000, 50_000), "producer": (140_000, 0)}

        board = (await client.get("/api/v1/reports/dashboard?period=2026-02&marketplace=shopee",
                                  headers=admin)).json()
        assert board["sales"]["orders"] == 2 and board["filters"]["marketplace"] == "shopee"
        # Shopee: X1 live since 10 Jan, Y1 since 20 Feb; 5 registered now, 4 at the end of January
        assert board["online"]["online_share_pct"] == {"current": 40.0, "previous": 25.0}
        months = (await client.get("/api/v1/reports/sales/month?period=2026-Q1", headers=admin)).json()
        assert [(m["key"], m["revenue_vnd"]) for m in months] == [
            ("2026-01", 50_000), ("2026-02", 530_000), ("2026-03", 330_000)]
        by_commune = (await client.get(f"/api/v1/reports/sales/commune?period=2026-02&commune={COMMUNE_A}",
                                       headers=admin)).json()
        assert by_commune == [{"key": str(COMMUNE_A), "label": "Phường Quy Nhơn", "orders": 2, "units": 6,
                               "revenue_vnd": 300_000}]
        top = (await client.get("/api/v1/reports/top-products?period=2026-02&limit=1", headers=producer)).json()
        assert [(t["name"], t["revenue_vnd"]) for t in top] == [(INJECTION, 140_000)]
        reasons = (await client.get("/api/v1/reports/rejections", headers=province)).json()
        assert reasons == [{"reason": "Thiếu ảnh", "listings": 2}, {"reason": "Sai danh mục", "listings": 1}]
        listings = (await client.get("/api/v1/reports/listings?group=3", headers=admin)).json()
        assert [(r["marketplace"], r["state"], r["listings"]) for r in listings] == [("shopee", "rejected", 1)]
        expiring = (await client.get("/api/v1/reports/certificates-expiring", headers=admin)).json()
        assert expiring["within_days"] == 90 and expiring["count"] == len(expiring["items"])


async def test_api_refuses_strangers_and_bad_filters(seeded: Seed, db: Any, app_client: Any, redis_url: str) -> None:
    admin = await bearer("admin", "admin")
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        assert (await client.get("/api/v1/reports/dashboard")).status_code == 401
        for query in ("period=2026-13", "period=tomorrow", "marketplace=amazon", "group=7", "stars=2",
                      "commune=abc", "commune=%C2%B2", "group=%C2%B2", "period=2026-03-01..2026-01-01"):
            answer = await client.get(f"/api/v1/reports/sales?{query}", headers=admin)
            assert answer.status_code == 400, query
            assert answer.json()["error"]["code"] in ("invalid_period", "invalid_report_filter")
        assert (await client.get("/api/v1/reports/sales/weekday", headers=admin)).status_code == 404
        assert (await client.get("/api/v1/reports/export.csv?table=nope", headers=admin)).status_code == 400


async def test_exports_over_http(seeded: Seed, db: Any, app_client: Any, redis_url: str) -> None:
    staff = await bearer("tinh", "staff", province=GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        xlsx = await client.get("/api/v1/reports/export.xlsx?period=2026-02", headers=staff)
        assert xlsx.status_code == 200
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert 'filename="bao-cao-ocop-2026-02.xlsx"' in xlsx.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        sheet = book["Theo sàn"]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert ["Tổng cộng", 3, 8, 440_000] in values  # Gia Lai only: no Hà Nội order
        assert ["Phạm vi", "Toàn tỉnh (địa bàn phụ trách)"] in [v[:2] for v in values]
        csv = await client.get("/api/v1/reports/export.csv?period=2026-02&table=commune", headers=staff)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        text = csv.content.decode("utf-8")
        assert text.startswith("\ufeffXã/phường (2025),Số đơn hàng")
        assert "Phường Quy Nhơn,2,6,300000\r\n" in text and "Hoàn Kiếm" not in text


async def test_dashboard_page_has_charts_tables_and_filters(seeded: Seed, db: Any, app_client: Any,
                                                            redis_url: str) -> None:
    await make_user("tinh", "staff", province=GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        redirect = await client.get("/reports", headers={"accept": "text/html"})
        assert redirect.status_code == 303 and redirect.headers["location"].startswith("/login")
        await login(client, "tinh")
        page = await client.get("/reports?period=2026-02&commune=&group=&stars=", headers={"accept": "text/html"})
        assert page.status_code == 200, page.text[:500]
        html = page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # seven charts, each an accessible image (the header's bell icon is a decorative svg, aria-hidden)
        assert len(re.findall(r'<svg[^>]*\srole="img"', html)) == 7 and html.count('role="img"') == 7
        assert html.count("<svg") - html.count('<svg aria-hidden="true"') == 7
        assert "<style" not in html and " style=" not in html
        assert not re.search(r"<script(?![^>]*\ssrc=)", html)  # only the shipped script files
        assert "440.000 ₫" in html  # revenue, Gia Lai only
        assert "Phường Quy Nhơn Đông" in html and "Hoàn Kiếm" not in html
        # the hostile product name is shown as text, never as markup
        assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;bấm&#34;)" in html or \
            "=HYPERLINK(&quot;http://evil.example&quot;,&quot;bấm&quot;)" in html
        assert 'href="/api/v1/reports/export.xlsx?period=2026-02"' in html
        assert f'<option value="{COMMUNE_A}"' in html
        filtered = await client.get(f"/reports?period=2026-02&commune={COMMUNE_A}&marketplace=lazada",
                                    headers={"accept": "text/html"})
        assert "200.000 ₫" in filtered.text and "440.000 ₫" not in filtered.text
        assert f'<option value="{COMMUNE_A}" selected' in filtered.text


async def test_several_communes_within_the_scope(seeded: Seed, db: Any, app_client: Any, redis_url: str) -> None:
    province = await bearer("tinh", "staff", province=GIA_LAI)
    commune = await bearer("xa", "staff", province=GIA_LAI, communes=(COMMUNE_A,))
    both = f"commune={COMMUNE_A}&commune={COMMUNE_B}"
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        rows = (await client.get(f"/api/v1/reports/sales/commune?period=2026-02&{both}", headers=province)).json()
        assert {r["key"]: r["revenue_vnd"] for r in rows} == {str(COMMUNE_A): 300_000, str(COMMUNE_B): 140_000}
        board = (await client.get(f"/api/v1/reports/dashboard?period=2026-02&{both}&commune=", headers=province)).json()
        assert board["filters"]["commune_codes"] == [COMMUNE_A, COMMUNE_B]
        assert board["sales"]["revenue_vnd"] == 440_000
        only_b = (await client.get(f"/api/v1/reports/sales?period=2026-02&commune={COMMUNE_B}", headers=province)).json()
        assert only_b["current"]["revenue_vnd"] == 140_000
        # outside the caller's area (another commune, another province) or no 2025 ward at all: refused
        for query in (both, f"commune={COMMUNE_H}", "commune=99999999"):
            who = commune if query == both else province
            answer = await client.get(f"/api/v1/reports/sales?period=2026-02&{query}", headers=who)
            assert answer.status_code == 400, query
            assert answer.json()["error"]["code"] == "invalid_report_filter"
        assert (await client.get(f"/api/v1/reports/export.xlsx?period=2026-02&{both}",
                                 headers=commune)).status_code == 400
        # the export names the chosen communes in its filter header
        xlsx = await client.get(f"/api/v1/reports/export.xlsx?period=2026-02&{both}", headers=province)
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Theo xã phường"]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert ["Xã/phường", "Phường Quy Nhơn, Phường Quy Nhơn Đông"] in [v[:2] for v in values]
        assert ["Tổng cộng", 3, 8, 440_000] in values


async def test_dashboard_page_filters_by_several_communes(seeded: Seed, db: Any, app_client: Any,
                                                         redis_url: str) -> None:
    await make_user("tinh", "staff", province=GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "tinh")
        html = (await client.get("/reports?period=2026-02", headers={"accept": "text/html"})).text
        assert re.search(r'<select id="f-commune" name="commune" multiple', html)
        assert f'<option value="{COMMUNE_A}" >' in html or f'<option value="{COMMUNE_A}">' in html
        page = await client.get(f"/reports?period=2026-02&commune={COMMUNE_A}&commune={COMMUNE_B}&marketplace=shopee",
                                headers={"accept": "text/html"})
        assert page.status_code == 200
        assert f'<option value="{COMMUNE_A}" selected' in page.text
        assert f'<option value="{COMMUNE_B}" selected' in page.text
        assert "240.000 ₫" in page.text  # Shopee in both communes: O1 100k (A) + O6 140k (B)
        assert f"commune={COMMUNE_A}&amp;commune={COMMUNE_B}" in page.text  # export links keep both
        assert (await client.get(f"/reports?period=2026-02&commune={COMMUNE_H}",
                                 headers={"accept": "text/html"})).status_code == 400
