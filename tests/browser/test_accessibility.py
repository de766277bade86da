"""Usable with a keyboard, a screen reader and a 360 px phone: checked on every main page.

Every form control has a label, every button a name; each page has the header, nav,
main and footer landmarks and a `lang`; the focused element shows an outline; nothing
is wider than a 360 px screen (no sideways scrolling).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.helpers.browser import open_new_post, sign_up

AUDIT = """() => {
  const problems = [];
  const inScroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = el.labels.length > 0 || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  for (const el of document.querySelectorAll("button, [role=button], a[href]")) {
    const name = (el.getAttribute("aria-label") || el.textContent || el.title || "").trim();
    const img = el.querySelector("img[alt]:not([alt=''])");
    if (!name && !img) problems.push(`nameless ${el.tagName.toLowerCase()} ${el.outerHTML}`);
  }
  for (const sel of ["header", "nav", "main", "footer"]) {
    if (!document.querySelector(sel)) problems.push(`no <${sel}> landmark`);
  }
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (!document.title.trim()) problems.push("empty <title>");
  const ids = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (ids.has(el.id)) problems.push(`duplicate id ${el.id}`);
    ids.add(el.id);
  }
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide on a ${width}px screen`);
  }
  for (const el of document.querySelectorAll("main *, header *, footer *")) {
    if (!visible(el) || inScroller(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && getComputedStyle(el).position !== "absolute") {
      problems.push(`<${el.tagName.toLowerCase()} class="${el.className}"> overflows to ${Math.round(box.right)}px`);
      break;
    }
  }
  return problems;
}"""


def audit(page: Page, path: str) -> list[str]:
    page.goto(path)
    return [f"{path}: {p}" for p in page.evaluate(AUDIT)]


def test_pages_are_labelled_landmarked_and_fit_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    problems: list[str] = []
    for path in ("/", "/login", "/signup", "/public", "/public/local", "/search"):
        problems += audit(page, path)
    sign_up(page, "linh")
    page.goto("/home")
    page.get_by_role("main").get_by_text("Content warning", exact=True).click()
    page.get_by_label("Content warning (optional)").fill("Một cảnh báo")
    page.get_by_label("What's on your mind?").fill(
        "Một bài viết khá dài để thử màn hình nhỏ: "
        "https://example.org/a/very/long/path/that/does/not/wrap/by/itself/at/all/0123456789"
    )
    page.get_by_role("main").get_by_role("button", name="Post", exact=True).click()
    open_new_post(page)
    post_path = page.url.split(page.url.split("/p/")[0], 1)[1]
    for path in (
        "/home",
        post_path,
        f"{post_path}/edit",
        f"/p/{post_path.rsplit('/', 1)[1]}/likes",
        "/@linh",
        "/settings/profile",
        "/settings/data",
        "/follow_requests",
        "/notifications",
        "/public",
        "/search?q=nobody",
    ):
        problems += audit(page, path)
    assert not problems, "\n".join(problems)


def test_keyboard_focus_is_visible(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    for _ in range(8):
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
        )
        assert outline[1] != "none" and outline[2] != "0px", outline
        page.keyboard.press("Tab")
