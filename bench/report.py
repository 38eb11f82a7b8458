"""Figures, the table they print as, and the JSON they are saved as."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RATE_UNITS = ("msg/s", "req/s")


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure beside its baseline, with the target it is judged against."""

    section: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None  # None: informational, no target
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Measured / baseline."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in RATE_UNITS:
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:g} {unit}"


def _ratio(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "-"
    if figure.unit in RATE_UNITS:
        return f"{ratio:.0%}"
    return f"{ratio:.1f}x" if ratio >= 0.1 else f"{ratio:.2f}x"  # 0.04x, not 0.0x


def _verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "ok" if figure.met else "MISSED"


def table(figures: list[Figure]) -> str:
    """A plain-text table: figure, measured, baseline, ratio, target, verdict; notes underneath."""
    header = ("figure", "measured", "baseline", "ratio", "target", "")
    rows = [
        (f.name, _fmt(f.value, f.unit), _fmt(f.baseline, f.unit), _ratio(f), f.target, _verdict(f))
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 or i >= 4 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(header), line(tuple("-" * w for w in widths))]
    section = None
    for figure, row in zip(figures, rows, strict=True):
        if figure.section != section and section is not None:
            out.append("")
        section = figure.section
        out.append(line(row))
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def save(path: Path, figures: list[Figure], details: dict[str, Any]) -> None:
    """Write every figure (with its ratio) and the raw measurements as JSON."""
    data = {
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
        "details": details,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
