"""``python -m srtod.report build | check``: the static report of the published analysis
(:mod:`srtod.report.site`; ``make report`` runs both)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .site import SITE, build_site, check_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srtod.report", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    build = sub.add_parser("build", help="render the published notebooks and tables of a profile")
    build.add_argument("--profile", default="default", help="docs/results/<profile> (default: default)")
    build.add_argument("--out", type=Path, default=SITE, help=f"the site's folder (default: {SITE})")
    check = sub.add_parser("check", help="open every page in headless Chromium")
    check.add_argument("--out", type=Path, default=SITE, help=f"the site's folder (default: {SITE})")
    check.add_argument("--screenshot", type=Path, default=None,
                       help="write the front page's screenshot (PNG) there")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.verb == "build":
        site = build_site(args.profile, args.out)
        print(f"report: {len(site.pages)} pages in {site.out} ({time.perf_counter() - start:.1f} s); "
              f"open {site.out / 'index.html'}")
        return 0
    facts = check_site(args.out, args.screenshot)
    print(f"report check (headless Chromium): {facts['pages']} pages, {facts['images']} images, "
          f"{facts['links']} internal links ({time.perf_counter() - start:.1f} s)")
    for problem in facts["problems"]:
        print(f"  {problem}", file=sys.stderr)
    if args.screenshot:
        print(f"  front page: {args.screenshot} ({args.screenshot.stat().st_size} bytes)")
    return 1 if facts["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
