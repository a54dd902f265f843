"""Words for people: a marketplace's rejection or error text explained in Vietnamese (and English)
with what to change, and the causes recorded on listing events said in words.

Marketplaces answer in English (or in codes); a producer needs to know what to fix. The original
text is always kept and shown beside the explanation, because a marketplace may word a reason we
have not seen, and staff quote the original when they ask the marketplace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Explained:
    vi: str
    en: str
    fix_vi: str
    fix_en: str
    original: str


# (pattern on the lower-cased original, vi, en, what to change vi, what to change en); first match wins.
_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    (r"prohibited word|banned word|forbidden word",
     "Tên hoặc mô tả có từ ngữ sàn cấm.", "The name or description contains a word the marketplace forbids.",
     "Sửa tên và mô tả, bỏ từ bị cấm (ghi trong nguyên văn bên dưới), rồi đăng lại.",
     "Edit the name and description to remove the forbidden word (quoted in the original below), then publish again."),
    (r"certificate",
     "Sàn cần ảnh giấy chứng nhận OCOP.", "The marketplace needs a picture of the OCOP certificate.",
     "Mở Sửa sản phẩm, tải bản chụp quyết định công nhận OCOP, rồi đăng lại.",
     "Open Edit product, upload a scan of the OCOP certificate decision, then publish again."),
    (r"watermark|promotional|logo|text on (the )?image",
     "Ảnh chính có chữ, logo hoặc hình mờ quảng cáo.", "The main photo has text, a logo or a watermark.",
     "Chụp lại ảnh sản phẩm trên nền trơn, không chèn chữ hay logo, đặt làm ảnh bìa, rồi đăng lại.",
     "Take a new photo on a plain background without text or logos, make it the cover, then publish again."),
    (r"category",
     "Sản phẩm bị xếp sai ngành hàng trên sàn.", "The product is in the wrong marketplace category.",
     "Kiểm tra nhóm sản phẩm OCOP và tên sản phẩm cho đúng loại hàng, rồi đăng lại.",
     "Check the OCOP product group and the name match what the product is, then publish again."),
    (r"name|title",
     "Tên sản phẩm có thông tin không liên quan đến sản phẩm.", "The product name has unrelated information.",
     "Đặt tên ngắn gọn: loại sản phẩm, đặc điểm, quy cách (ví dụ \"Bánh tráng nước dừa 500 g\"); bỏ số điện thoại, khuyến mãi.",
     "Use a short name: product, feature, size (e.g. \"Coconut rice paper 500 g\"); no phone numbers or promotions."),
    (r"shelf life|expiry|manufacturer|origin",
     "Thực phẩm thiếu hạn sử dụng hoặc thông tin nhà sản xuất.", "Food is missing its shelf life or maker details.",
     "Điền Hạn sử dụng (ngày) và ghi tên, địa chỉ cơ sở sản xuất trong mô tả, rồi đăng lại.",
     "Fill in the shelf life (days) and put the maker's name and address in the description, then publish again."),
    (r"image|picture|photo",
     "Ảnh sản phẩm chưa đạt yêu cầu của sàn.", "The product photos do not meet the marketplace's rules.",
     "Thêm ảnh rõ nét, chụp trọn sản phẩm, cạnh ngắn từ 500 px trở lên, rồi đăng lại.",
     "Add sharp photos showing the whole product, at least 500 px on the short side, then publish again."),
    (r"price",
     "Giá bán không được sàn chấp nhận.", "The marketplace does not accept the price.",
     "Kiểm tra giá bán (đồng) cho đúng, rồi đăng lại.", "Check the price in đồng, then publish again."),
    (r"weight|dimension|package",
     "Thiếu hoặc sai khối lượng, kích thước đóng gói.", "The package weight or size is missing or wrong.",
     "Điền khối lượng đóng gói và dài, rộng, cao (cm), rồi đăng lại.",
     "Fill in the package weight and length, width, height (cm), then publish again."),
    (r"token|auth|expired|unauthori|access",
     "Quyền truy cập gian hàng đã hết hạn.", "Access to the shop has expired.",
     "Vào Gian hàng và kết nối lại gian hàng này; tin đăng sẽ được gửi lại.",
     "Go to Shops and reconnect this shop; the listing will be sent again."),
    (r"rate|too many|429|timeout|timed out|unavailable|5\d\d|connection",
     "Sàn tạm thời không trả lời.", "The marketplace did not answer for now.",
     "Không cần làm gì: hệ thống tự thử lại. Nếu vẫn lỗi sau vài giờ, báo cán bộ xã.",
     "Nothing to do: it is retried on its own. If it still fails after a few hours, tell your commune officer."),
)

_FALLBACK = ("Sàn chưa chấp nhận tin đăng.", "The marketplace did not accept the listing.",
             "Đọc nguyên văn lý do của sàn bên dưới, sửa sản phẩm rồi đăng lại; cần giúp thì hỏi cán bộ xã.",
             "Read the marketplace's own reason below, change the product and publish again; "
             "ask your commune officer for help.")


def explain(original: str) -> Explained | None:
    """The explanation of a marketplace's reason, or None when there is no reason."""
    text = (original or "").strip()
    if not text:
        return None
    low = text.lower()
    for pattern, vi, en, fix_vi, fix_en in _RULES:
        if re.search(pattern, low):
            return Explained(vi, en, fix_vi, fix_en, text)
    vi, en, fix_vi, fix_en = _FALLBACK
    return Explained(vi, en, fix_vi, fix_en, text)


_CAUSES = {  # recorded cause (before ":") -> (vi, en)
    "job": ("Hệ thống đăng bán", "Publishing service"),
    "sync": ("Đồng bộ với sàn", "Marketplace sync"),
    "rule": ("Quy tắc tự động", "Automatic rule"),
    "import": ("Nhập danh mục", "Catalogue import"),
    "demo": ("Dữ liệu mẫu", "Demo data"),
}
_RULE_NAMES = {"certificate_expired": ("chứng nhận OCOP hết hạn", "OCOP certificate expired")}


def cause_words(cause: str, users: dict[int, str]) -> tuple[str, str]:
    """``user:3`` → the user's name, ``job:publish_listing`` → "Hệ thống đăng bán", … (vi, en)."""
    kind, _, rest = (cause or "").partition(":")
    if kind == "user" and rest.isdigit():
        name = users.get(int(rest), f"#{rest}")
        return name, name
    if kind in _CAUSES:
        vi, en = _CAUSES[kind]
        if kind == "rule" and rest in _RULE_NAMES:
            return f"{vi}: {_RULE_NAMES[rest][0]}", f"{en}: {_RULE_NAMES[rest][1]}"
        return vi, en
    return cause, cause


def user_ids_of(causes: list[str]) -> list[int]:
    """The user ids named in ``user:N`` causes, to look their names up in one query."""
    out = []
    for cause in causes:
        kind, _, rest = (cause or "").partition(":")
        if kind == "user" and rest.isdigit():
            out.append(int(rest))
    return sorted(set(out))


def halves(reason: str) -> tuple[str, str]:
    """Our own event reasons are written "Vietnamese / English": each language's half (the whole
    text for both when it is not written that way, e.g. a marketplace's own words)."""
    vi, sep, en = (reason or "").partition(" / ")
    return (vi, en) if sep else (reason, reason)
