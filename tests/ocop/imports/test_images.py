import io
import zipfile

import pytest

from ocop.domain.errors import InvalidValue
from ocop.imports.images import MAX_IMAGES_PER_PRODUCT, ImageRef, parse_image_refs, zip_index


def make_zip() -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("anh/Banh-Trang.JPG", b"1")
        zf.writestr("ruou.png", b"2")
        zf.writestr("__MACOSX/anh/._Banh-Trang.JPG", b"junk")
        zf.writestr(".DS_Store", b"junk")
        zf.writestr("anh/", b"")
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_zip_index_skips_folders_and_mac_junk() -> None:
    assert zip_index(make_zip()) == {"banh-trang.jpg": "anh/Banh-Trang.JPG", "ruou.png": "ruou.png"}


def test_refs_split_on_semicolons_newlines_and_bars() -> None:
    names = zip_index(make_zip())
    refs = parse_image_refs("https://cdn.example/a.jpg;banh-trang.jpg\nRUOU.PNG | http://x.example/b.webp", names)
    assert refs == (ImageRef("url", "https://cdn.example/a.jpg"), ImageRef("zip", "anh/Banh-Trang.JPG"),
                    ImageRef("zip", "ruou.png"), ImageRef("url", "http://x.example/b.webp"))


@pytest.mark.parametrize(
    ("cell", "code"),
    [("file:///etc/passwd", "image_scheme"), ("javascript:alert(1)", "image_scheme"), ("s3://bucket/a.jpg", "image_scheme"),
     ("khong-co.jpg", "image_not_in_zip")],
)
def test_refused_refs(cell: str, code: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_image_refs(cell, zip_index(make_zip()))
    assert info.value.code == code


def test_file_names_need_a_zip() -> None:
    with pytest.raises(InvalidValue) as info:
        parse_image_refs("a.jpg", None)
    assert info.value.code == "image_needs_zip"
    assert parse_image_refs("https://cdn.example/a.jpg", None) == (ImageRef("url", "https://cdn.example/a.jpg"),)


def test_at_most_nine_images() -> None:
    cell = ";".join(f"https://cdn.example/{i}.jpg" for i in range(MAX_IMAGES_PER_PRODUCT + 1))
    with pytest.raises(InvalidValue) as info:
        parse_image_refs(cell, None)
    assert info.value.code == "too_many_images"
