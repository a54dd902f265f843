"""Staff see their area, what needs attention, and act on a producer's behalf (audited)."""

from __future__ import annotations

from datetime import timedelta

from ocop.accounts.tables import AuditEvent
from ocop.catalog.tables import Certificate, Product
from ocop.domain.dates import today_vn
from ocop.domain.text import fold
from ocop.marketplace.tables import Listing, Shop
from tests.ocop.web.support import GIA_LAI, HA_NOI, login, make_producer, make_user, post_form, ward_code


async def test_staff_area_attention_and_acting_on_behalf(db, app_client, redis_url) -> None:
    commune = await ward_code(GIA_LAI, 5)
    a = await make_producer("HTX Bánh tráng Tam Quan", "4100259564", GIA_LAI, commune)
    other_commune = await make_producer("HTX Xã khác", "0100109106", GIA_LAI, await ward_code(GIA_LAI, 6))
    await make_producer("HTX Hà Nội", "0100233488", HA_NOI)
    staff = await make_user("cb_xa", "staff", province=GIA_LAI, communes=(commune,))
    expiring = Product(producer=a, sku="A1", name="Bánh tráng", name_folded=fold("Bánh tráng"))
    await expiring.save()
    await Certificate.insert(
        Certificate(product=expiring.id, stars=3, expires_on=today_vn() + timedelta(days=30))
    )
    shop = Shop(producer=a, marketplace="lazada", external_shop_id="9")
    await shop.save()
    await Listing.insert(
        Listing(
            product=expiring.id, shop=shop.id, seller_sku="A1", state="rejected", last_error="Ảnh có logo"
        )
    )
    hidden = Product(producer=other_commune, sku="B1", name="Không thuộc xã", name_folded="khong thuoc xa")
    await hidden.save()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "cb_xa")
        page = await client.get("/staff", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "HTX Bánh tráng Tam Quan" in page.text
        assert "HTX Xã khác" not in page.text and "HTX Hà Nội" not in page.text
        assert "Ảnh có logo" in page.text and "Không thuộc xã" not in page.text
        assert "Chứng nhận sắp hết hạn" in page.text
        # acting for a producer outside the communes is a 404
        assert (
            await post_form(client, "/staff/act-as", {"producer_id": str(other_commune)}, from_page="/staff")
        ).status_code == 404
        # without choosing a producer, staff cannot add a product
        assert (await client.get("/products/new", headers={"accept": "text/html"})).status_code == 403
        acting = await post_form(client, "/staff/act-as", {"producer_id": str(a)}, from_page="/staff")
        assert acting.status_code == 303
        form = await client.get("/products/new", headers={"accept": "text/html"})
        assert form.status_code == 200 and "thao tác thay cho chủ thể" in form.text
        made = await post_form(
            client, "/products/new", {"name": "Nước mắm", "action": "draft"}, from_page="/products/new"
        )
        assert made.status_code == 303
        product = await Product.select().where(Product.name == "Nước mắm").first()
        assert product["producer"] == a
        event = await AuditEvent.select().where(AuditEvent.action == "product.create").first()
        assert event["actor"] == staff and event["producer_id"] == a
        changes = (
            event["changes"]
            if isinstance(event["changes"], dict)
            else __import__("json").loads(event["changes"])
        )
        assert changes["on_behalf_of_producer"] == a
        stop = await post_form(client, "/staff/act-as", {"producer_id": ""}, from_page="/staff")
        assert stop.status_code == 303
        assert (await client.get("/products/new", headers={"accept": "text/html"})).status_code == 403
