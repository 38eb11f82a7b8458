"""HTML for people: the driver's page behind a board's QR code, and a board drawn as an LED sign.

Rendered on the server from plain values (Jinja2, autoescaped), with inline
CSS and a few lines of script: no CDN, font or script host, so the page loads
on a weak connection inside WeChat's browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape

from signage.board import ARROW_GLYPHS, BoardLine, has_data
from signage.i18n import TEXT, Language

_ENV = Environment(
    loader=PackageLoader("signage", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class PageLink:
    """One navigation button: which app, its label in the page's language, where it goes."""

    app: str
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class PageLot:
    """One lot on the driver's page."""

    lot: str
    name: str
    free: int
    estimated: bool
    minutes: int  # to the door; for a queue, the wait at the gate included (as on the board)
    walk_m: int
    links: tuple[PageLink, ...]
    queue_minutes: int | None = None  # a queue answer: minutes from now until a space is expected


@dataclass(frozen=True, slots=True)
class GoPage:
    """What the driver's page says: the best lot first, then the alternatives."""

    board_id: str
    board_name: str
    destination_name: str
    lots: tuple[PageLot, ...]
    fresh: bool  # False: the engine has no fresh data, so no counts are shown
    updated: str  # local time of the answer, HH:MM
    in_wechat: bool = False
    note: str | None = None  # e.g. why a position could not be used


def render_go_page(page: GoPage, lang: Language) -> bytes:
    """The whole driver's page."""
    other = "en" if lang == "zh" else "zh"
    html = _ENV.get_template("go.html").render(page=page, lang=lang, t=TEXT[lang], other_lang=other)
    return html.encode("utf-8")


def render_go_lots(page: GoPage, lang: Language) -> bytes:
    """Only the lots part of the driver's page, for refreshing it in place."""
    return _ENV.get_template("go_lots.html").render(page=page, lang=lang, t=TEXT[lang]).encode("utf-8")


def render_not_found(lang: Language) -> bytes:
    """The friendly page for a QR code whose board does not exist."""
    return _ENV.get_template("not_found.html").render(lang=lang, t=TEXT[lang]).encode("utf-8")


def render_display(
    board_id: str,
    board_name: str,
    lines: tuple[BoardLine, ...],
    version: int,
    fallback: str,
    message: str | None = None,
) -> bytes:
    """A board drawn as an LED sign, kept live by the board's event stream."""
    html = _ENV.get_template("display.html").render(
        board_id=board_id,
        board_name=board_name,
        lines=lines,
        message=message,
        version=version,
        has_data=has_data(lines),
        fallback=fallback,
        glyphs=ARROW_GLYPHS,
    )
    return html.encode("utf-8")


def favicon_svg() -> bytes:
    """The site icon."""
    return resources.files("signage").joinpath("templates/favicon.svg").read_bytes()
