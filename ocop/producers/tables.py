"""OCOP producers (chủ thể OCOP): cooperatives, companies, household businesses, co-op groups."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Producer(Table, tablename="producer"):
    """Address uses the two-level units in force since 1 July 2025 (province + commune/ward codes
    from ``vietnam-provinces``); ``legacy_district`` keeps the pre-2025 district when a catalogue
    names one, so old records stay traceable."""

    kind = Varchar(length=24)  # htx | doanh_nghiep | ho_kinh_doanh | to_hop_tac
    legal_name = Varchar(length=255)
    name_folded = Varchar(length=255, index=True)
    tax_code = Varchar(length=16, unique=True)
    phone = Varchar(length=20, default="")  # E.164
    email = Varchar(length=255, default="")
    representative = Varchar(length=200, default="")
    address_line = Varchar(length=255, default="")
    province_code = Integer(null=True, default=None, index=True)
    commune_code = Integer(null=True, default=None, index=True)
    legacy_district = Varchar(length=120, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    note = Text(default="")
