"""Regenerate docs/img/web.png: kgrec's web page with one user's recommendations and their path pictures.

Needs: the API serving a trained MovieLens graph (`make demo` serves it on http://127.0.0.1:8000/), and
Debian's chromium (`make test` installs it when run as root; or `apt-get install -y chromium`). Playwright
is in the test extra, so the project's .venv has it; no browser download is needed.

Rerun from the repository root:
    .venv/bin/python docs/img/make_web_screenshot.py
Options via environment: KGREC_WEB_URL (default http://127.0.0.1:8000/), KGREC_WEB_USER (default 1),
KGREC_WEB_K (how many cards, default 3), CHROMIUM (default /usr/bin/chromium).
It only reads: it opens the page for that user and screenshots the top of it.
"""
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

URL = os.environ.get("KGREC_WEB_URL", "http://127.0.0.1:8000/")
USER = os.environ.get("KGREC_WEB_USER", "1")
K = os.environ.get("KGREC_WEB_K", "3")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parent / "web.png"
WIDTH, HEIGHT = 1200, 1500


def main() -> None:
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="kgrec-shot-") as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, viewport={"width": WIDTH, "height": HEIGHT},
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = context.new_page()
        response = page.goto(URL.rstrip("/") + "/?" + urlencode({"user": USER, "k": K}))
        if response is None or response.status != 200:
            raise SystemExit(f"the page answered {response.status if response else 'nothing'}: is the API serving "
                             f"a trained graph at {URL}?")
        page.wait_for_selector("li.card svg.path")
        page.screenshot(path=str(OUT))
        context.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
