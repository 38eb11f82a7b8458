"""`parking-guide qr`: each board's QR code (SVG, PNG) and a print-ready sheet, written to a directory."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from parking.app.cli.errors import EXIT_OK, EXIT_REFUSED, CliError
from parking.config import Config


def public_url_of(config: Config, source: str) -> str:
    """The config's http.public_url, checked to be an absolute http(s) URL (CliError if not)."""
    public_url = config.http.public_url
    if not public_url:
        raise CliError(
            f"{source}: http.public_url is not set. QR codes point at "
            "{public_url}/go/{board}, so set it to the address drivers' phones reach, "
            "e.g. https://parking.example.org",
            EXIT_REFUSED,
        )
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(
            f"{source}: http.public_url {public_url!r} is not an absolute "
            "http(s) URL, e.g. https://parking.example.org",
            EXIT_REFUSED,
        )
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        print(
            f"parking-guide qr: warning: http.public_url {public_url!r} is this machine only; "
            "phones that scan these codes cannot reach it",
            file=sys.stderr,
        )
    return public_url


def write_codes(config: Config, source: str, out_dir: Path) -> int:
    """Write DIR/{board}.svg, DIR/{board}.png and DIR/{board}-sheet.svg for every board; print each path."""
    from signage.qr import PRINT_PNG_SCALE, go_url, print_sheet, qr_png, qr_svg

    public_url = public_url_of(config, source)
    if not config.boards:
        print(f"parking-guide qr: {source} has no boards: nothing to write", file=sys.stderr)
        return EXIT_OK
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for board in config.boards:
            url = go_url(public_url, board.id)
            files = {
                f"{board.id}.svg": qr_svg(url),
                f"{board.id}.png": qr_png(url, scale=PRINT_PNG_SCALE),
                f"{board.id}-sheet.svg": print_sheet(url, board.name),
            }
            for name, data in files.items():
                (out_dir / name).write_bytes(data)
                print(f"{out_dir / name}  ({url})")
    except OSError as exc:
        raise CliError(f"cannot write into {out_dir}: {exc.strerror or exc}") from exc
    return EXIT_OK
