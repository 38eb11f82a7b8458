"""Server-side SVG charts for the ops dashboard: a lot's occupancy today against its usual day.

Plain SVG text from plain values: no script, no library, no font download.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

DAY_S = 86_400
WIDTH, HEIGHT = 360, 130
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 34, 6, 16, 18


def _x(offset_s: float) -> float:
    return PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * min(max(offset_s, 0.0), DAY_S) / DAY_S


def _y(share: float) -> float:
    return PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1.0 - min(max(share, 0.0), 1.0))


def _path(points: Sequence[tuple[float, float | None]], capacity: int) -> str:
    """An SVG path of occupied share over the day; a gap (None) lifts the pen."""
    out, pen_down = [], False
    for offset_s, free in points:
        if free is None or capacity <= 0:
            pen_down = False
            continue
        out.append(f"{'L' if pen_down else 'M'}{_x(offset_s):.1f},{_y(1.0 - free / capacity):.1f}")
        pen_down = True
    return " ".join(out)


def occupancy_svg(
    title: str,
    capacity: int,
    today: Sequence[tuple[float, float | None]],
    usual: Sequence[tuple[float, float | None]],
    now_s: float | None = None,
) -> bytes:
    """Occupied share (0-100 %) across the local day: today solid, the usual day dashed.

    Points are (seconds since local midnight, free spaces or None when unknown).
    """
    grid = []
    for pct in (0, 50, 100):
        y = _y(pct / 100)
        grid.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
            f'<text x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    for hour in (0, 6, 12, 18, 24):
        x = _x(hour * 3600)
        grid.append(f'<text x="{x:.1f}" y="{HEIGHT - 4}" text-anchor="middle">{hour:02d}</text>')
    if now_s is not None:
        x = _x(now_s)
        grid.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_TOP}" y2="{HEIGHT - PAD_BOTTOM}" class="n"/>')
    usual_path, today_path = _path(usual, capacity), _path(today, capacity)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}: occupancy today and usually">'
        "<style>text{font:10px sans-serif;fill:#444}.g{stroke:#ddd}.n{stroke:#f5a300}"
        ".u{fill:none;stroke:#999;stroke-width:1.5;stroke-dasharray:4 3}"
        ".t{fill:none;stroke:#0b3d91;stroke-width:2}</style>"
        f'<text x="{PAD_LEFT}" y="11">{escape(title)} · occupied · today (solid) vs usual (dashed)</text>'
        + "".join(grid)
        + (f'<path class="u" d="{usual_path}"/>' if usual_path else "")
        + (f'<path class="t" d="{today_path}"/>' if today_path else "")
        + "</svg>"
    )
    return svg.encode("utf-8")
