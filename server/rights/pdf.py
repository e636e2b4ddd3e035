"""The access report as a PDF a person can read, in Finnish or English.

Uses a Unicode TrueType font of the machine when there is one (DejaVu Sans); otherwise
the PDF core font Helvetica, whose Latin-1 covers the Finnish and Swedish letters
(ä, ö, å), with anything else transliterated.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from fpdf import FPDF

from server.rights.labels import text

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
BOLD_NAME = "DejaVuSans-Bold.ttf"


def unicode_font() -> tuple[Path, Path | None] | None:
    for regular in FONT_CANDIDATES:
        if regular.is_file():
            bold = regular.with_name(BOLD_NAME)
            return regular, bold if bold.is_file() else None
    return None


def latin1(value: str) -> str:
    """Text the core fonts can show: Latin-1 as it is, other letters without accents."""
    out = []
    for char in value:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            replacements = {
                "\u20ac": "EUR",
                "\u2013": "-",
                "\u2014": "-",
                "\u2018": "'",
                "\u2019": "'",
                "\u201c": '"',
                "\u201d": '"',
            }
            plain = replacements.get(char) or unicodedata.normalize("NFKD", char)
            out.append(plain.encode("latin-1", "ignore").decode("latin-1") or "?")
    return "".join(out)


class ReportPDF(FPDF):
    def __init__(self, language: str) -> None:
        super().__init__(format="A4")
        self.language = language
        font = unicode_font()
        if font is not None:
            regular, bold = font
            self.add_font("Report", "", str(regular))
            self.add_font("Report", "B", str(bold or regular))
            self.report_font = "Report"
            self.unicode_text = True
        else:
            self.report_font = "Helvetica"
            self.unicode_text = False
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def t(self, value: Any) -> str:
        shown = "-" if value is None or value == "" else str(value)
        if isinstance(value, bool):
            shown = ("kyllä" if value else "ei") if self.language == "fi" else str(value).lower()
        if isinstance(value, list):
            shown = ", ".join(str(v) for v in value) or "-"
        return shown if self.unicode_text else latin1(shown)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.report_font, "", 8)
        self.set_text_color(110)
        self.cell(0, 6, self.t(f"{text('page', self.language)} {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0)


def render_pdf(document: dict[str, Any]) -> bytes:
    """The report document (see `report.build_report`) as PDF bytes."""
    language = document.get("language", "fi")
    pdf = ReportPDF(language)
    pdf.set_title(pdf.t(text("title", language)))
    pdf.set_creator("rekisteri")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font(pdf.report_font, "B", 15)
    pdf.multi_cell(width, 8, pdf.t(text("title", language)))
    pdf.ln(2)
    pdf.set_font(pdf.report_font, "", 9.5)
    for key, value in (
        ("controller", document.get("controller")),
        ("subject", document.get("subject")),
        ("customer_number", document.get("customerNumber")),
        ("generated", document.get("generatedAt")),
    ):
        pdf.set_font(pdf.report_font, "B", 9.5)
        pdf.cell(45, 5.5, pdf.t(text(key, language)))
        pdf.set_font(pdf.report_font, "", 9.5)
        pdf.multi_cell(width - 45, 5.5, pdf.t(value))
    pdf.ln(2)
    pdf.set_font(pdf.report_font, "", 9.5)
    pdf.multi_cell(width, 5, pdf.t(text("intro", language)))

    for section in document.get("sections", []):
        pdf.ln(4)
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.set_font(pdf.report_font, "B", 12)
        pdf.set_fill_color(228, 236, 244)
        pdf.cell(width, 7, pdf.t(section["title"]), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        items = section.get("items", [])
        if not items:
            pdf.set_font(pdf.report_font, "", 9.5)
            message = "none" if section.get("available", True) else "unavailable"
            pdf.multi_cell(width, 5, pdf.t(text(message, language)))
            continue
        for item in items:
            if pdf.get_y() > pdf.h - 35:
                pdf.add_page()
            pdf.set_font(pdf.report_font, "B", 10)
            pdf.multi_cell(width, 5.5, pdf.t(item.get("title")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(pdf.report_font, "", 9)
            with pdf.table(
                col_widths=(38, 62),
                width=width,
                first_row_as_headings=False,
                line_height=4.6,
                padding=1,
                borders_layout="HORIZONTAL_LINES",
            ) as table:
                for entry in item.get("fields", []):
                    row = table.row()
                    row.cell(pdf.t(entry.get("label")))
                    row.cell(pdf.t(entry.get("value")))
            pdf.ln(1.5)
    return bytes(pdf.output())
