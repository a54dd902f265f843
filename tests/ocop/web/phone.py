"""What every page of a phone journey must satisfy, checked in a real Chromium at 360 x 740.

* nothing wider than the screen (tables scroll inside their own box);
* no visible tap target under 44 x 44 px, except those listed in :data:`SMALL_TARGET_EXCEPTIONS`;
* no English on a Vietnamese page and no Vietnamese on an English page, outside product data
  (names of products, producers, communes and shops, which the test hands in) and outside elements
  marked with another ``lang``;
* no console errors (except the expected status of a page that is meant to answer an error);
* axe-core (served to the page from the ``axe-playwright-python`` package) finds no violation.

A screenshot of each checked page is kept under ``var/test-artifacts/phone/``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

VIEWPORT = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "phone"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]

#: Deliberate exceptions to the 44 x 44 px rule, as CSS selectors: a checkbox or radio button is
#: drawn at 24 px, but its whole label (checked to be at least 44 px tall) is what is tapped.
SMALL_TARGET_EXCEPTIONS = ("label > input[type=checkbox]", "label > input[type=radio]")

#: English words that have no business on a Vietnamese page (brand names are removed first).
ENGLISH_WORDS = (
    "the", "and", "of", "for", "with", "your", "you", "is", "are", "not", "please", "sign in", "sign up",
    "search", "product", "products", "shop", "shops", "publish", "published", "publishing", "status", "error",
    "errors", "failed", "ready", "live", "draft", "pending", "review", "orders", "revenue", "import", "imported",
    "password", "username", "none", "unknown", "user", "job", "sync", "checked", "changed", "rejected", "reason",
    "expired", "active", "back", "next", "home", "menu", "login", "logout", "save", "edit", "delete", "upload",
    "download", "created", "updated", "unchanged", "rows", "file", "when", "shop_taken", "not found",
)
#: Names and codes that read the same in both languages.
NEUTRAL = ("TikTok Shop", "Shopee", "Lazada", "Tiki", "OCOP", "SKU", "API", "JSON", "CSV", "XLSX", "ZIP", "PDF",
           "JPEG", "PNG", "WebP", "HEIC", "Zalo", "Email", "dd/mm/yyyy", "Ctrl", "HTX", "QĐ-UBND", "UTC")
VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưĂÂĐÊÔƠƯàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ"
    "ÀÁẠẢÃẰẮẶẲẴẦẤẬẨẪÈÉẸẺẼỀẾỆỂỄÌÍỊỈĨÒÓỌỎÕỒỐỘỔỖỜỚỢỞỠÙÚỤỦŨỪỨỰỬỮỲÝỴỶỸ]")

_TARGETS_JS = """(exceptions) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || el.closest('svg')) continue;
    if (exceptions.some(s => el.matches(s))) {
      const label = el.closest('label').getBoundingClientRect();
      if (label.height >= 44 && label.width >= 44) continue;
    }
    if (r.width < 43.5 || r.height < 43.5)
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""

_TEXT_JS = """(lang) => {
  const clone = document.body.cloneNode(true);
  for (const el of clone.querySelectorAll('script, style, svg, option, datalist, noscript, [hidden], details:not([open]) > :not(summary)')) el.remove();
  for (const el of clone.querySelectorAll('[lang]')) if (el.getAttribute('lang') !== lang) el.remove();
  for (const el of clone.querySelectorAll('input[type=hidden], input[readonly]')) el.remove();
  return clone.textContent.replace(/\\s+/g, ' ');
}"""

_WIDTH_JS = "document.documentElement.scrollWidth"


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@dataclass
class PhoneChecks:
    """Collects console errors of a page and checks each screen it is shown."""

    page: Page
    lang: str = "vi"
    data: list[str] = field(default_factory=list)
    """Product data (names of products, producers, communes, shops) allowed in either language."""
    errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda m: self.errors.append(f"{m.text} @ {self.page.url}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"{e} @ {self.page.url}"))

    async def check(self, name: str, *, expected_status: int | None = None) -> None:
        page = self.page
        await page.wait_for_load_state("networkidle")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        width = await page.evaluate(_WIDTH_JS)
        assert width <= VIEWPORT["width"], f"{name}: {page.url} is {width} px wide at 360 px"
        small = await page.evaluate(_TARGETS_JS, list(SMALL_TARGET_EXCEPTIONS))
        assert not small, f"{name}: tap targets under 44 x 44 px on {page.url}: {small}"
        self.language(name, await page.evaluate(_TEXT_JS, self.lang))
        await self.axe(name)
        errors = [e for e in self.errors if not (expected_status and f"status of {expected_status}" in e)]
        assert not errors, f"{name}: console errors: {errors}"
        self.errors.clear()
        self.checked.append(name)

    def language(self, name: str, text: str) -> None:
        for value in sorted({*self.data, *NEUTRAL}, key=len, reverse=True):
            if value:
                text = text.replace(value, " ")
        if self.lang == "vi":
            found = sorted({w for w in ENGLISH_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I)})
            assert not found, f"{name}: English on a Vietnamese page {self.page.url}: {found}\n{text[:3000]}"
        else:
            found = sorted(set(VIETNAMESE_LETTERS.findall(text)))
            words = sorted({m.group(0) for m in re.finditer(r"\S*" + VIETNAMESE_LETTERS.pattern + r"\S*", text)})
            assert not found, f"{name}: Vietnamese on an English page {self.page.url}: {words[:30]}"

    async def axe(self, name: str) -> None:
        page = self.page
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.evaluate(axe_source())  # evaluated by the test, not loaded by the page (CSP)
        result: dict[str, Any] = await page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})")
        problems = [f"{v['id']} ({v['impact']}): {v['help']} — "
                    + "; ".join(str(n["target"]) for n in v["nodes"][:5]) for v in result["violations"]]
        assert not problems, f"{name}: axe-core on {page.url}: {problems}"


@contextlib.asynccontextmanager
async def phone() -> AsyncIterator[PhoneChecks]:
    """A touch phone at 360 x 740 in Vietnamese, in Debian's Chromium; yields its checks (``.page``)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN", has_touch=True, is_mobile=True)
            yield PhoneChecks(await context.new_page())
        finally:
            await browser.close()
