"""QR codes for the boards: the code itself (SVG, PNG) and a print-ready sheet to mount beside a board.

The code holds `{public_url}/go/{board}`, the board's landing page. The sheet
is SVG only: the code, the board's name and a two-language instruction. Its
text is left to the printing system's fonts, which have Chinese glyphs; a PNG
with that text would need Pillow and a CJK font shipped with the project, so
the PNG is the code alone, with its quiet zone, at print resolution.
"""

from __future__ import annotations

import io
import unicodedata
from urllib.parse import quote
from xml.sax.saxutils import escape

import segno

ERROR_LEVEL = "q"  # recovers from ~25% damage: the sheet hangs outdoors
QUIET_ZONE_MODULES = 4  # the margin the QR standard requires around the code
SCREEN_PNG_SCALE = 10  # pixels per module for a code shown on a screen
PRINT_PNG_SCALE = 24  # pixels per module when printed: ~0.9k px, about 280 dpi at 85 mm

INSTRUCTION = ("Scan to find parking", "扫码找车位")

# The sheet is A6 portrait; everything on it is in millimetres.
SHEET_WIDTH_MM = 105.0
SHEET_HEIGHT_MM = 148.0
SHEET_MARGIN_MM = 10.0
CODE_SIZE_MM = 85.0  # including the quiet zone
NAME_SIZE_MM = 7.0
MIN_TEXT_MM = 2.0  # a long name or URL shrinks to fit the width, but not below this
INSTRUCTION_SIZE_MM = 6.0
URL_SIZE_MM = 2.8
FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"


def go_url(public_url: str, board_id: str) -> str:
    """The landing page of a board: `{public_url}/go/{board}`, whether or not public_url ends in '/'."""
    return f"{public_url.rstrip('/')}/go/{quote(board_id, safe='')}"


def qr_svg(url: str) -> bytes:
    """The QR code for a URL as a standalone SVG document (10 px per module, white quiet zone)."""
    out = io.BytesIO()
    _code(url).save(
        out,
        kind="svg",
        scale=SCREEN_PNG_SCALE,
        border=QUIET_ZONE_MODULES,
        light="#fff",
        svgclass=None,
        lineclass=None,
    )
    return out.getvalue()


def qr_png(url: str, scale: int = SCREEN_PNG_SCALE) -> bytes:
    """The QR code for a URL as a PNG, `scale` pixels per module, with its quiet zone."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1 pixel per module, not {scale}")
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=scale, border=QUIET_ZONE_MODULES, light="#fff")
    return out.getvalue()


def print_sheet(url: str, board_name: str, instruction: tuple[str, ...] = INSTRUCTION) -> bytes:
    """A print-ready A6 SVG: the code, the board's name, the instruction lines and the URL under it."""
    code = _code(url)
    modules = code.symbol_size(scale=1, border=QUIET_ZONE_MODULES)[0]
    module_mm = CODE_SIZE_MM / modules
    code_x = (SHEET_WIDTH_MM - CODE_SIZE_MM) / 2
    inline = code.svg_inline(scale=1, border=QUIET_ZONE_MODULES, light="#fff", svgclass=None, lineclass=None)
    centre = SHEET_WIDTH_MM / 2
    text_width = SHEET_WIDTH_MM - 2 * SHEET_MARGIN_MM
    y = SHEET_MARGIN_MM + CODE_SIZE_MM + NAME_SIZE_MM + 3
    name_size = _fit_font_mm(board_name, text_width, NAME_SIZE_MM)
    lines = [_text(centre, y, name_size, board_name, weight="bold")]
    for line in instruction:
        y += INSTRUCTION_SIZE_MM + 3
        lines.append(_text(centre, y, _fit_font_mm(line, text_width, INSTRUCTION_SIZE_MM), line))
    lines.append(
        _text(
            centre,
            SHEET_HEIGHT_MM - SHEET_MARGIN_MM / 2,
            _fit_font_mm(url, text_width, URL_SIZE_MM),
            url,
            fill="#555",
        )
    )
    svg = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_WIDTH_MM:g}mm" '
        f'height="{SHEET_HEIGHT_MM:g}mm" viewBox="0 0 {SHEET_WIDTH_MM:g} {SHEET_HEIGHT_MM:g}">\n'
        f"<title>{escape(board_name)}</title>\n"
        f'<rect width="{SHEET_WIDTH_MM:g}" height="{SHEET_HEIGHT_MM:g}" fill="#fff"/>\n'
        f'<g transform="translate({code_x:g} {SHEET_MARGIN_MM:g}) scale({module_mm:.6f})">{inline}</g>\n'
        f'<g font-family="{FONTS}" text-anchor="middle">\n' + "\n".join(lines) + "\n</g>\n</svg>\n"
    )
    return svg.encode("utf-8")


def _code(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR_LEVEL)


def _text(x: float, y: float, size_mm: float, text: str, weight: str = "normal", fill: str = "#000") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size_mm:.2f}" font-weight="{weight}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def _fit_font_mm(text: str, width_mm: float, size_mm: float) -> float:
    """A font size at which the text fits the width, by a rough estimate of glyph widths."""
    # Wide (CJK) glyphs take about 1 em, others about 0.6 em in a sans-serif face.
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6 for ch in text)
    if ems == 0:
        return size_mm
    return max(MIN_TEXT_MM, min(size_mm, width_mm / ems))
