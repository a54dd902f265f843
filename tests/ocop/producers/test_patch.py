"""``PATCH /api/v1/producers/{id}`` changes only the details it is sent; the details as changed are
checked whole, with the sign-up form's field errors."""

from __future__ import annotations

from typing import Any

from ocop.accounts.tokens import create_token
from ocop.producers.addresses import ward_options
from ocop.producers.services import validate_producer
from ocop.producers.tables import Producer
from tests.ocop.web.support import GIA_LAI, HA_NOI, audited_changes, make_producer, make_user, ward_code

COLUMNS = ("kind", "legal_name", "tax_code", "phone", "email", "representative", "address_line",
           "province_code", "commune_code")


async def _stored(producer_id: int) -> dict[str, Any]:
    columns = [getattr(Producer, c) for c in COLUMNS]
    row = await Producer.select(*columns).where(Producer.id == producer_id).first()
    return dict(row)


async def test_producer_patch_changes_only_what_it_is_sent(db, app_client, redis_url) -> None:
    mine = await make_producer("HTX A", "4100259564")
    await Producer.update({Producer.email: "htx@example.vn", Producer.address_line: "Thôn 1"}).where(
        Producer.id == mine
    )
    token = (await create_token(await make_user("a1", "producer", producer_id=mine), "t"))[1]
    stored = await _stored(mine)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        ok = await client.patch(f"/api/v1/producers/{mine}", json={"phone": "0256 3822 123"}, headers=auth)
        assert ok.status_code == 200, ok.text
        assert ok.json()["phone"] == "+842563822123" and ok.json()["legal_name"] == "HTX A"
        assert await _stored(mine) == {**stored, "phone": "+842563822123"}
        phone = {"phone": ["+84912345678", "+842563822123"]}
        assert await audited_changes("producer.update", mine) == [phone]

        emptied = await client.patch(f"/api/v1/producers/{mine}", json={"email": ""}, headers=auth)
        assert emptied.status_code == 200, emptied.text
        assert await _stored(mine) == {**stored, "phone": "+842563822123", "email": ""}

        # the details as changed are checked whole: a new province needs a commune of it
        moved = await client.patch(f"/api/v1/producers/{mine}", json={"province_code": HA_NOI}, headers=auth)
        assert moved.status_code == 422, moved.text
        problems = [(f["field"], f["code"]) for f in moved.json()["error"]["fields"]]
        assert problems == [("commune_code", "unknown_ward")]
        bad = await client.patch(f"/api/v1/producers/{mine}", json={"tax_code": "4100259565"}, headers=auth)
        assert bad.status_code == 422 and [f["field"] for f in bad.json()["error"]["fields"]] == ["tax_code"]
        unknown = await client.patch(f"/api/v1/producers/{mine}", json={"telephone": "0912"}, headers=auth)
        assert unknown.status_code == 400 and "telephone" in unknown.text

        commune = await ward_code(HA_NOI, 1)
        both = await client.patch(
            f"/api/v1/producers/{mine}", json={"province_code": HA_NOI, "commune_code": commune}, headers=auth
        )
        assert both.status_code == 200, both.text
    assert await _stored(mine) == {
        **stored, "phone": "+842563822123", "email": "", "province_code": HA_NOI, "commune_code": commune
    }
    assert len(await audited_changes("producer.update", mine)) == 3


def test_the_form_and_the_api_read_a_producer_alike() -> None:
    """The form sends strings, the API numbers: the same details read the same."""
    details = {"kind": "htx", "legal_name": "HTX A", "tax_code": "4100259564", "phone": "0912 345 678"}
    commune = ward_options(GIA_LAI)[0].code
    typed = {"province_code": str(GIA_LAI), "commune_code": str(commune)}
    form, form_errors = validate_producer({**details, **typed})
    api, api_errors = validate_producer({**details, "province_code": GIA_LAI, "commune_code": commune})
    assert form == api and form is not None and not form_errors and not api_errors
    form, form_errors = validate_producer({**details, "province_code": str(GIA_LAI), "commune_code": "1"})
    api, api_errors = validate_producer({**details, "province_code": GIA_LAI, "commune_code": 1})
    assert form is None and api is None and form_errors == api_errors
    assert [e.field for e in api_errors] == ["commune_code"]
