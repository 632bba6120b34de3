"""The growth plot of docs/benchmarks.md: each page's p95 at 100,000 and at 1,000,000
rides, from two result files of `python -m bench.pages --json`, drawn as an SVG (no
plotting library: a bar per page and size on a logarithmic time axis, the page's target
marked). Not a test.

    python -m bench.pages --database bench_100k --json /tmp/pages-100k.json
    python -m bench.pages --database bench_1m --json /tmp/pages-1m.json
    python -m bench.plot /tmp/pages-100k.json /tmp/pages-1m.json docs/benchmarks-growth.svg
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from html import escape

ROW = 30  # pixels a page takes
LEFT = 290  # the page names' column
WIDTH = 520  # the bars' axis
TICKS_MS = (1, 10, 100, 1000, 10000)
COLOURS = {"small": "#8fb3d9", "large": "#1f5f99"}


def _x(ms: float) -> float:
    low, high = math.log10(TICKS_MS[0]), math.log10(TICKS_MS[-1])
    ms = min(max(ms, TICKS_MS[0]), TICKS_MS[-1])
    return LEFT + (math.log10(ms) - low) / (high - low) * WIDTH


def _rows(small: dict, large: dict) -> list[tuple[str, float, float, float]]:
    """(page, p95 small, p95 large, target) for the pages both runs measured."""
    mine = {page["page"]: page for page in small["pages"]}
    rows = []
    for page in large["pages"]:
        if page["page"] in mine:
            rows.append(
                (page["page"], mine[page["page"]]["p95_ms"], page["p95_ms"], page["target_ms"])
            )
    return rows


def svg(small: dict, large: dict) -> str:
    rows = _rows(small, large)
    top = 50
    height = top + ROW * len(rows) + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LEFT + WIDTH + 30}" '
        f'height="{height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">p95 per page at '
        f"{small['rides']:,} and {large['rides']:,} rides (ms, log scale; | = target)</text>",
    ]
    for tick in TICKS_MS:
        x = _x(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 10}" x2="{x:.1f}" y2="{height - 40}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{height - 25}" text-anchor="middle">{tick:,}</text>')
    for index, (name, p95_small, p95_large, target) in enumerate(rows):
        y = top + index * ROW
        parts.append(f'<text x="{LEFT - 8}" y="{y + 15}" text-anchor="end">{escape(name)}</text>')
        for offset, (key, value) in enumerate((("small", p95_small), ("large", p95_large))):
            width = _x(value) - LEFT
            parts.append(
                f'<rect x="{LEFT}" y="{y + 3 + offset * 11}" width="{width:.1f}" height="10" '
                f'fill="{COLOURS[key]}"><title>{value} ms</title></rect>'
            )
        if not target:  # a page measured for reference, with no target of its own
            continue
        x = _x(target)
        parts.append(
            f'<line x1="{x:.1f}" y1="{y + 1}" x2="{x:.1f}" y2="{y + 25}" stroke="#c0392b" '
            'stroke-width="2"/>'
        )
    legend_y = height - 8
    for offset, (key, data) in enumerate((("small", small), ("large", large))):
        x = LEFT + offset * 160
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="10" fill="{COLOURS[key]}"/>'
        )
        parts.append(f'<text x="{x + 16}" y="{legend_y}">{data["rides"]:,} rides</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small", help="bench.pages --json of the smaller database")
    parser.add_argument("large", help="bench.pages --json of the larger database")
    parser.add_argument("out", help="the SVG to write")
    args = parser.parse_args(argv)
    with open(args.small) as small, open(args.large) as large:
        drawing = svg(json.load(small), json.load(large))
    with open(args.out, "w") as out:
        out.write(drawing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
