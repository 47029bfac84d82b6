"""Regenerate docs/img/browser.png: Neo4j Browser with the kgrec style, showing one film's neighbourhood.

Needs: a running kgrec Neo4j (`kgrec neo4j start`, graph loaded with MovieLens), a Chromium
(e.g. `apt-get install -y chromium`) and Playwright for Python in its own venv
(`python3 -m venv /tmp/shotvenv && /tmp/shotvenv/bin/pip install playwright`; no browser download needed).

Rerun from the repository root:
    /tmp/shotvenv/bin/python docs/img/make_browser_screenshot.py
Options via environment: KGREC_HOME (default .kgrec, where neo4j/password lives), BROWSER_URL,
BOLT (host:port), CHROMIUM (executable), MOVIE_ID (default 79132, Inception).
It only reads the graph: it logs in, applies cypher/browser/kgrec.grass with `:style`, sets
`:param movieId`, runs cypher/browser/movie_people_entities.cypher and screenshots the result.
"""
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("KGREC_HOME", ROOT / ".kgrec"))
URL = os.environ.get("BROWSER_URL", "http://127.0.0.1:7474/browser/")
BOLT = os.environ.get("BOLT", "127.0.0.1:7687")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MOVIE_ID = int(os.environ.get("MOVIE_ID", "79132"))
OUT = Path(__file__).resolve().parent / "browser.png"


def run(page, text, wait_ms=1500):
    """Paste a command into Browser's main editor and run it (Ctrl+Enter).

    Pasting, not typing: typed text gets Monaco's auto-closed braces, which leaves a stray `}` in the grass.
    """
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    page.locator(".monaco-editor").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Control+V")
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(wait_ms)


def main():
    password = (HOME / "neo4j" / "password").read_text().strip()
    grass = (ROOT / "cypher/browser/kgrec.grass").read_text()
    query = "\n".join(
        line for line in (ROOT / "cypher/browser/movie_people_entities.cypher").read_text().splitlines()
        if not line.startswith("//"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 900},
                                      permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(URL)
        page.wait_for_selector('[data-testid="username"]', timeout=60000)
        page.select_option('select', 'bolt://')
        page.fill('[data-testid="boltaddress"]', BOLT)
        page.fill('[data-testid="username"]', "neo4j")
        page.fill('[data-testid="password"]', password)
        page.click('[data-testid="connect"]')
        page.wait_for_selector('text=You are connected as user', timeout=30000)
        run(page, ":style " + grass)
        run(page, f":param movieId => {MOVIE_ID}")
        run(page, ":clear", 500)
        run(page, query, 0)
        page.wait_for_selector("svg .node", timeout=60000)
        banner = page.locator('text=we collect information on product usage')
        if banner.count():  # dismiss the usage-data banner (its close button is the next sibling)
            banner.locator("xpath=following-sibling::*[1]").click()
        page.locator('[title="Fullscreen"]').first.click()  # the result frame fills the window
        page.wait_for_timeout(8000)  # let the force layout settle
        page.locator('[aria-label="zoom-to-fit"]').first.click()
        page.wait_for_timeout(2000)
        page.mouse.move(1390, 890)   # no hover highlight
        page.screenshot(path=str(OUT))
        browser.close()
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
