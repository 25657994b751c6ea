"""Driving Label Studio's editor in Chromium (Playwright) the way an annotator does: mouse drags over
the text, clicks on regions, the hotkeys of annotation/config.xml, the Submit button. Every helper
counts the UI actions it performs (``Actions``) so the effort bench can read what each edit costs.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
TEXT = ".lsf-richtext__container"
SUBMIT = "[data-testid=bottombar-submit-button], [data-testid=bottombar-update-button]"

# offsets into data.text -> the DOM range Label Studio renders (one span per line, <br> for "\n")
_RANGE_JS = """([start, end, scroll]) => {
  const root = document.querySelector('.lsf-richtext__container');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
  let pos = 0, sNode = null, sOff = 0, eNode = null, eOff = 0, n;
  while ((n = walker.nextNode())) {
    if (n.nodeType === 1) { if (n.tagName === 'BR') pos += 1; continue; }
    const len = n.textContent.length;
    if (!sNode && start < pos + len) { sNode = n; sOff = start - pos; }
    if (!eNode && end <= pos + len) { eNode = n; eOff = end - pos; break; }
    pos += len;
  }
  const r = document.createRange(); r.setStart(sNode, sOff); r.setEnd(eNode, eOff);
  if (scroll) sNode.parentElement.scrollIntoView({block: 'center', behavior: 'instant'});
  const rects = [...r.getClientRects()].filter(x => x.width > 0);
  const a = rects[0], b = rects[rects.length - 1];
  return [a.left, a.top + a.height / 2, b.right, b.top + b.height / 2, r.toString()];
}"""


@dataclass
class Actions:
    """UI actions by the kind of edit they served: clicks, drags and key presses."""

    by_edit: Counter = field(default_factory=Counter)
    current: str = "other"

    def add(self, n: int = 1) -> None:
        self.by_edit[self.current] += n

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(self.by_edit.items())), indent=2) + "\n")


class Editor:
    """One Chromium page on a Label Studio task."""

    def __init__(self, page, url: str, actions: Actions | None = None):
        self.page, self.url = page, url.rstrip("/")
        self.actions = actions or Actions()
        self.selected: str | None = None  # the region the test last selected

    # -- pages ------------------------------------------------------------------
    def signup(self, invite_path: str, email: str, password: str) -> None:
        self.page.goto(self.url + invite_path)
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda u: "/user/signup" not in u)

    def open_task(self, project: int, task: int) -> None:
        self.page.goto(f"{self.url}/projects/{project}/data?task={task}")
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_selector(TEXT)
        self.page.wait_for_selector(SUBMIT)
        self.selected = None

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    # -- the text -----------------------------------------------------------------
    def _range(self, start: int, end: int, scroll: bool = True):
        """[x1, y1, x2, y2, text] of text[start:end] once the page has stopped moving (scrolled into view)."""
        if scroll:
            self.page.evaluate(_RANGE_JS, [start, end, True])
        last = None
        for _ in range(50):
            now = self.page.evaluate(_RANGE_JS, [start, end, False])
            if now == last:
                return now
            last = now
            self.page.wait_for_timeout(20)
        return last

    def drag(self, start: int, end: int) -> str:
        """Select text[start:end] with the mouse (one action); returns the selected text."""
        x1, y1, x2, y2, text = self._range(start, end)
        self.page.mouse.move(x1 + 1, y1)
        self.page.mouse.down()
        self.page.mouse.move(x2 - 1, y2, steps=4)
        self.page.mouse.up()
        self.actions.add()
        return text

    def click_char(self, offset: int) -> None:
        """Click the character at ``offset`` (selects the region drawn there)."""
        x1, y1, x2, y2, _ = self._range(offset, offset + 1)
        self.page.mouse.click((x1 + x2) / 2, y1)
        self.actions.add()

    def highlighted(self, offset: int) -> bool:
        """Whether a region is drawn over the character at ``offset``."""
        x1, y1, x2, _, _ = self._range(offset, offset + 1)
        return self.page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)?.closest('.htx-highlight')",
                                  [(x1 + x2) / 2, y1])

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.actions.add()

    # -- edits ----------------------------------------------------------------------
    def submit(self) -> dict:
        """Press Submit (or Update) and return the stored annotation as the server answered it."""
        button = self.page.locator(SUBMIT).first
        with self.page.expect_response(lambda r: "/annotations" in r.url and r.request.method in ("POST", "PATCH")
                                       and r.status < 300) as resp:
            button.click()
        self.actions.add()
        return resp.value.json()
