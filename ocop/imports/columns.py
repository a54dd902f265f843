"""The province template's columns and how a file's header row is matched to them.

The 23 headers and their order are those of the province's catalogue template. People retype
headers, so matching folds case, accents, spacing and Unicode form, and also accepts English
aliases; anything else is reported as an unknown column and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ocop.domain.text import fold


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str  # Vietnamese header as written by the template
    help_vi: str  # explanation on the template's second sheet
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("tax_code", "Mã số thuế chủ thể", "10 chữ số (có chữ số kiểm tra), 13 chữ số cho chi nhánh (0123456789-001) hoặc số định danh cá nhân 12 chữ số (hộ kinh doanh).",
           ("Tax code", "MST", "Mã số thuế", "Producer tax code"), True, "0100233488"),
    Column("producer_name", "Tên chủ thể", "Tên đầy đủ của hợp tác xã, doanh nghiệp, hộ kinh doanh hoặc tổ hợp tác.",
           ("Producer", "Producer name", "Chủ thể", "Tên cơ sở"), True, "HTX Nông nghiệp Tam Quan"),
    Column("producer_kind", "Loại hình chủ thể", "Chọn: Hợp tác xã, Tổ hợp tác, Doanh nghiệp, Hộ kinh doanh.",
           ("Producer kind", "Kind", "Loại hình"), True, "Hợp tác xã"),
    Column("phone", "Số điện thoại", "Di động hoặc cố định: 0905 123 456, +84 905 123 456.",
           ("Phone", "Điện thoại", "SĐT", "Phone number"), False, "0905 123 456"),
    Column("province", "Tỉnh/Thành phố", "Tỉnh/thành phố theo đơn vị hành chính từ 01/07/2025 (34 tỉnh, thành).",
           ("Province", "Tỉnh", "Tỉnh thành"), True, "Gia Lai"),
    Column("commune", "Xã/Phường", "Xã, phường hoặc đặc khu theo tên mới từ 01/07/2025; tên cũ được nhận nếu xác định được duy nhất.",
           ("Commune", "Ward", "Commune/Ward", "Xã", "Phường"), True, "Phường Tam Quan"),
    Column("sku", "Mã sản phẩm", "Mã do chủ thể đặt, duy nhất trong các sản phẩm của chủ thể; dùng để nhận ra sản phẩm khi nhập lại. Sản phẩm có phân loại: mỗi phân loại một dòng, các dòng cùng Mã sản phẩm là một sản phẩm (xem cột Mã phân loại).",
           ("SKU", "Product code", "Mã SP"), True, "BT-001"),
    Column("name", "Tên sản phẩm", "Tên sản phẩm như trên giấy chứng nhận OCOP.",
           ("Product name", "Tên SP", "Sản phẩm"), True, "Bánh tráng nước dừa Tam Quan"),
    Column("group", "Nhóm sản phẩm", "Một trong 6 nhóm OCOP (Quyết định 148/QĐ-TTg): Thực phẩm, Đồ uống, Thảo dược, Vải và may mặc, Lưu niệm – nội thất – trang trí, Dịch vụ du lịch.",
           ("Product group", "OCOP group", "Group", "Nhóm"), True, "Thực phẩm"),
    Column("stars", "Số sao OCOP", "3, 4 hoặc 5.", ("Stars", "OCOP stars", "Hạng sao", "Số sao"), True, "4"),
    Column("decision_number", "Số quyết định công nhận", "Số quyết định công nhận sản phẩm OCOP, ví dụ 1234/QĐ-UBND.",
           ("Decision number", "Số quyết định", "Số QĐ"), False, "1234/QĐ-UBND"),
    Column("decided_on", "Ngày công nhận", "Ngày ký quyết định, dạng dd/mm/yyyy. Giấy chứng nhận có hiệu lực 36 tháng.",
           ("Decision date", "Certified on", "Ngày quyết định"), False, "15/03/2025"),
    Column("unit", "Đơn vị tính", "Ví dụ: hộp, chai, hũ, lọ, gói, túi, bịch, vỉ, cái, bộ, kg, g, lít, ml.",
           ("Unit", "ĐVT", "Unit of sale"), True, "gói"),
    Column("net_quantity", "Quy cách", "Quy cách đóng gói, ví dụ 500 g, 500 ml, hộp 10 cái.",
           ("Net quantity", "Packaging", "Specification"), False, "500 g"),
    Column("price", "Giá bán (VNĐ)", "Giá bán lẻ bằng đồng, không có phần thập phân: 150000, 150.000 hoặc 150.000đ.",
           ("Price (VND)", "Price", "Giá bán", "Giá"), True, "45.000"),
    Column("stock", "Tồn kho", "Số lượng có sẵn để bán (số nguyên).", ("Stock", "Quantity", "Số lượng"), False, "100"),
    Column("weight_g", "Khối lượng (g)", "Khối lượng cả bao bì, tính bằng gam (các sàn dùng để tính phí vận chuyển).",
           ("Weight (g)", "Weight", "Khối lượng"), False, "550"),
    Column("length_cm", "Dài (cm)", "Chiều dài kiện hàng, cm.", ("Length (cm)", "Length", "Dài"), False, "25"),
    Column("width_cm", "Rộng (cm)", "Chiều rộng kiện hàng, cm.", ("Width (cm)", "Width", "Rộng"), False, "18"),
    Column("height_cm", "Cao (cm)", "Chiều cao kiện hàng, cm.", ("Height (cm)", "Height", "Cao"), False, "5"),
    Column("shelf_life_days", "Hạn sử dụng (ngày)", "Số ngày sử dụng kể từ ngày sản xuất.",
           ("Shelf life (days)", "Shelf life", "Hạn sử dụng", "HSD"), False, "180"),
    Column("description", "Mô tả", "Mô tả sản phẩm (thành phần, cách dùng, câu chuyện sản phẩm).",
           ("Description", "Mô tả sản phẩm"), False, "Bánh tráng nướng giòn, vị nước dừa."),
    Column("images", "Ảnh", "Đường dẫn ảnh (http/https) hoặc tên tệp trong tệp ZIP kèm theo; nhiều ảnh cách nhau bởi dấu ; hoặc xuống dòng.",
           ("Images", "Image", "Photos", "Hình ảnh", "Ảnh sản phẩm"), False, "banh-trang-1.jpg; banh-trang-2.jpg"),
)
VARIANT_COLUMNS: tuple[Column, ...] = (
    Column("variant_sku", "Mã phân loại (SKU)", "Chỉ cho sản phẩm có phân loại (dung tích, khối lượng, quy cách…): mỗi phân loại một dòng, cùng Mã sản phẩm; mã SKU riêng của phân loại, không trùng mã nào khác của chủ thể. Giá bán, tồn kho, khối lượng, kích thước trên dòng là của phân loại đó; thông tin sản phẩm lấy ở dòng đầu. Để trống nếu sản phẩm không có phân loại.",
           ("Variant SKU", "SKU phân loại", "Mã SKU phân loại"), False, "BT-001-500G"),
    Column("attr1_name", "Phân loại 1", "Tên thuộc tính phân loại thứ nhất, tối đa 14 ký tự, giống nhau ở mọi dòng của sản phẩm.",
           ("Variation 1", "Attribute 1", "Thuộc tính 1"), False, "Khối lượng"),
    Column("attr1_value", "Lựa chọn 1", "Giá trị của phân loại 1 ở dòng này, tối đa 20 ký tự.",
           ("Option 1", "Value 1", "Giá trị 1"), False, "500 g"),
    Column("attr2_name", "Phân loại 2", "Tên thuộc tính phân loại thứ hai (nếu có), tối đa 14 ký tự.",
           ("Variation 2", "Attribute 2", "Thuộc tính 2"), False, "Đóng gói"),
    Column("attr2_value", "Lựa chọn 2", "Giá trị của phân loại 2 ở dòng này, tối đa 20 ký tự.",
           ("Option 2", "Value 2", "Giá trị 2"), False, "túi"),
)
"""The variant columns, after the province's 23: a catalogue without variants leaves them out or
empty and imports exactly as before."""
ALL_COLUMNS = COLUMNS + VARIANT_COLUMNS
BY_KEY = {c.key: c for c in ALL_COLUMNS}


def header_key(text: object) -> str:
    """Folded, punctuation-free form used to compare headers (``"Giá bán (VNĐ)"`` -> ``"gia ban vnd"``)."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(text))).split())


_INDEX = {header_key(alias): c.key for c in ALL_COLUMNS for alias in (c.header, c.key, *c.aliases)}


@dataclass(slots=True)
class HeaderMap:
    """Which spreadsheet column (0-based) holds which template column."""

    positions: dict[str, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def missing_required(self) -> list[str]:
        return [c.header for c in COLUMNS if c.required and c.key not in self.positions]


def match_headers(cells: list[object]) -> HeaderMap:
    """Map a header row to template columns; unknown and repeated headers are collected, not fatal."""
    result = HeaderMap()
    for index, cell in enumerate(cells):
        if cell is None or str(cell).strip() == "":
            continue
        key = _INDEX.get(header_key(cell))
        if key is None:
            result.unknown.append(str(cell).strip())
        elif key in result.positions:
            result.duplicates.append(str(cell).strip())
        else:
            result.positions[key] = index
    return result
