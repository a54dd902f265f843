"""Marketplace reasons said in Vietnamese with what to change, the original kept; event causes in words."""

from __future__ import annotations

import pytest

from connectors.sandbox.state import REJECTION_REASONS
from ocop.marketplace.reasons import _FALLBACK, cause_words, explain, halves


@pytest.mark.parametrize("original", REJECTION_REASONS)
def test_every_sandbox_rejection_reason_gets_its_own_explanation(original: str) -> None:
    explained = explain(original)
    assert explained is not None
    assert explained.original == original  # kept, to quote to the marketplace
    assert explained.vi != _FALLBACK[0] and explained.fix_vi != _FALLBACK[2]
    assert explained.fix_vi.endswith(".") and explained.fix_en


def test_explanations_say_what_to_change() -> None:
    prohibited = explain("Prohibited word in title or description: 'chữa bệnh'")
    assert prohibited is not None and "từ ngữ sàn cấm" in prohibited.vi and "bỏ từ bị cấm" in prohibited.fix_vi
    watermark = explain("Main image contains watermark or promotional text")
    assert watermark is not None and "ảnh" in watermark.fix_vi.lower()
    token = explain("Sàn báo lỗi / marketplace said: access token expired")
    assert token is not None and "kết nối lại" in token.fix_vi
    unknown = explain("E-4711")
    assert unknown is not None and unknown.vi == _FALLBACK[0] and unknown.original == "E-4711"
    assert explain("") is None and explain("   ") is None


def test_causes_in_words() -> None:
    users = {3: "Nguyễn Văn A"}
    assert cause_words("user:3", users) == ("Nguyễn Văn A", "Nguyễn Văn A")
    assert cause_words("user:9", users) == ("#9", "#9")
    assert cause_words("job:publish_listing", users) == ("Hệ thống đăng bán", "Publishing service")
    assert cause_words("sync:status", users) == ("Đồng bộ với sàn", "Marketplace sync")
    assert cause_words("rule:certificate_expired", users)[0] == "Quy tắc tự động: chứng nhận OCOP hết hạn"
    assert halves("yêu cầu gỡ / unlist requested") == ("yêu cầu gỡ", "unlist requested")
    assert halves("Main image contains watermark") == ("Main image contains watermark",) * 2
