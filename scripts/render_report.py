"""Render a main-job report in headless Chromium and check that it shows something, as a reader
would see it: ``python scripts/render_report.py out/ec_lipf6/report.html [-o shot.png]``.

Needs Debian's chromium (``apt-get install chromium``); writes a full-page PNG (1200 px wide) and
fails if the page is blank or a figure did not load."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def render(report: Path, png: Path, height: int = 9000) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is not installed: apt-get install chromium (Debian), then run this again")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size=1200,{height}",
                        f"--screenshot={png}", report.resolve().as_uri()], check=True, capture_output=True,
                       timeout=120)
    return png


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("-o", "--out", type=Path, default=None, help="PNG (default: next to the report)")
    args = ap.parse_args()
    if not args.report.is_file():
        sys.exit(f"report {args.report} does not exist: run `sei-net run RECIPE -o OUT` first")
    png = render(args.report, args.out or args.report.with_suffix(".png"))
    import matplotlib.image as mpimg
    pixels = mpimg.imread(png)
    ink = float((pixels[..., :3].mean(axis=-1) < 0.5).mean())      # share of dark pixels
    colour = float((pixels[..., :3].std(axis=-1) > 0.1).mean())     # share of coloured pixels (plots)
    page = args.report.read_text()
    print(f"{png}: {pixels.shape[1]}x{pixels.shape[0]} px, dark {ink:.3f}, coloured {colour:.4f}, "
          f"{page.count('<img')} figures, {page.count('<table')} tables")
    if ink < 0.002 or colour < 0.0005:
        sys.exit("the rendered page looks blank or has no figures")


if __name__ == "__main__":
    main()
