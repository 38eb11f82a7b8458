"""QR codes: decoded back by a real decoder, the print sheet, and `parking-guide qr`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from parking.app.cli import main
from signage.qr import INSTRUCTION, go_url, print_sheet, qr_png, qr_svg
from tests.helpers.services import unavailable
from tests.helpers.site import SITE_YAML

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png(path: Path) -> str:
    """What zbarimg reads from a PNG (skipped without zbarimg; a failure under CI=true)."""
    binary = shutil.which("zbarimg")
    if binary is None:
        unavailable("zbarimg is not installed (apt-get install zbar-tools)")
    assert binary is not None
    done = subprocess.run([binary, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"zbarimg found no code in {path}: {done.stderr}"
    return done.stdout.removesuffix("\n")


def sheet_texts(svg: bytes) -> list[str]:
    """The text lines of an SVG document, in order."""
    return [text.text or "" for text in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def svg_path_data(svg: bytes) -> list[str]:
    """The `d` of every path in an SVG document, in order."""
    root = ElementTree.fromstring(svg)
    return [path.attrib["d"] for path in root.iter() if path.tag in (f"{SVG}path", "path")]


class TestGoUrl:
    @pytest.mark.parametrize(
        ("public_url", "expected"),
        [
            ("https://parking.example.org", "https://parking.example.org/go/north"),
            ("https://parking.example.org/", "https://parking.example.org/go/north"),
            ("https://example.org/hospital/parking/", "https://example.org/hospital/parking/go/north"),
        ],
    )
    def test_the_landing_page_of_a_board(self, public_url: str, expected: str) -> None:
        assert go_url(public_url, "north") == expected


class TestCodes:
    @pytest.mark.parametrize(
        "url",
        [
            "https://parking.example.org/go/north",
            "http://127.0.0.1:8080/go/gate-2.east",
            "https://example.org/a/rather/long/prefix/for/a/hospital/behind/a/proxy/go/Board_17",
        ],
    )
    def test_the_png_decodes_to_exactly_the_url(self, tmp_path: Path, url: str) -> None:
        png = tmp_path / "code.png"
        png.write_bytes(qr_png(url))
        assert decode_png(png) == url

    def test_scale_sets_pixels_per_module(self) -> None:
        url = "https://parking.example.org/go/north"
        small, large = qr_png(url, scale=2), qr_png(url, scale=8)
        assert small.startswith(PNG_SIGNATURE)
        assert large.startswith(PNG_SIGNATURE)
        # IHDR width: (modules + 2 * quiet zone) * scale
        width_small = int.from_bytes(small[16:20], "big")
        width_large = int.from_bytes(large[16:20], "big")
        assert width_large == 4 * width_small

    def test_a_scale_below_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match="scale"):
            qr_png("https://parking.example.org/go/north", scale=0)

    def test_the_svg_is_a_document_with_a_white_quiet_zone(self) -> None:
        root = ElementTree.fromstring(qr_svg("https://parking.example.org/go/north"))
        assert root.tag == f"{SVG}svg"
        fills = [p.attrib.get("fill") for p in root.iter(f"{SVG}path")]
        assert "#fff" in fills


class TestPrintSheet:
    URL = "https://parking.example.org/go/north"

    def test_the_name_and_the_instruction_in_both_languages_are_under_the_code(self) -> None:
        sheet = print_sheet(self.URL, "中山北路 westbound")
        assert sheet_texts(sheet) == ["中山北路 westbound", *INSTRUCTION, self.URL]
        assert "Scan to find parking" in INSTRUCTION
        assert "扫码找车位" in INSTRUCTION

    def test_the_sheet_carries_the_same_code_as_the_svg(self) -> None:
        # the code in the sheet is the very symbol qr_svg draws (and qr_png, which zbarimg reads)
        assert svg_path_data(print_sheet(self.URL, "North")) == svg_path_data(qr_svg(self.URL))

    def test_it_is_a_printable_a6_page(self) -> None:
        root = ElementTree.fromstring(print_sheet(self.URL, "North"))
        assert (root.attrib["width"], root.attrib["height"]) == ("105mm", "148mm")
        assert root.attrib["viewBox"] == "0 0 105 148"

    def test_markup_in_a_board_name_is_text_not_markup(self) -> None:
        name = 'Gate <B> & "C"'
        sheet = print_sheet(self.URL, name)
        assert sheet_texts(sheet)[0] == name
        assert ElementTree.fromstring(sheet).find(f"{SVG}title") is not None

    def test_a_long_name_is_set_smaller_to_fit(self) -> None:
        short = print_sheet(self.URL, "North")
        long = print_sheet(self.URL, "Main Road westbound, before the junction with Tiyuchang Road")
        size = re.compile(rb'font-size="([0-9.]+)"')
        assert float(size.findall(long)[0]) < float(size.findall(short)[0])


class TestCommand:
    def write_config(self, tmp_path: Path, public_url: str | None) -> Path:
        text = SITE_YAML
        if public_url is not None:
            text += f"http:\n  public_url: {public_url}\n"
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def test_writes_each_boards_code_png_and_sheet(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        config = self.write_config(tmp_path, "https://parking.example.org/")
        out = tmp_path / "out" / "qr"
        assert main(["qr", "-c", str(config), "-o", str(out)]) == 0
        assert sorted(p.name for p in out.iterdir()) == ["north-sheet.svg", "north.png", "north.svg"]
        assert decode_png(out / "north.png") == "https://parking.example.org/go/north"
        assert sheet_texts((out / "north-sheet.svg").read_bytes())[0] == "Main Road westbound"
        printed = capsys.readouterr().out
        for name in ("north.svg", "north.png", "north-sheet.svg"):
            assert str(out / name) in printed

    def test_without_public_url_it_exits_2_and_says_why(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        config = self.write_config(tmp_path, None)
        out = tmp_path / "out"
        assert main(["qr", "-c", str(config), "-o", str(out)]) == 2
        assert "http.public_url is not set" in capsys.readouterr().err
        assert not out.exists()

    def test_a_config_without_boards_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        config = self.write_config(tmp_path, "https://parking.example.org")
        text = config.read_text(encoding="utf-8")
        config.write_text(re.sub(r"boards:\n(  .*\n|     .*\n)+", "", text), encoding="utf-8")
        out = tmp_path / "out"
        assert main(["qr", "-c", str(config), "-o", str(out)]) == 0
        assert "has no boards" in capsys.readouterr().err
        assert not out.exists()

    def test_a_loopback_public_url_is_written_with_a_warning(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        config = self.write_config(tmp_path, "http://127.0.0.1:8080")
        assert main(["qr", "-c", str(config), "-o", str(tmp_path / "out")]) == 0
        assert "cannot reach it" in capsys.readouterr().err
        assert (tmp_path / "out" / "north.png").exists()

    def test_a_relative_public_url_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        config = self.write_config(tmp_path, "parking.example.org")
        assert main(["qr", "-c", str(config), "-o", str(tmp_path / "out")]) == 2
        assert "not an absolute http(s) URL" in capsys.readouterr().err
