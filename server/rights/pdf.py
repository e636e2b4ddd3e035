"""The access report as a PDF a person can read, in Finnish or English.

Uses a Unicode TrueType font of the machine when there is one (DejaVu Sans); otherwise
the PDF core font Helvetica, whose Latin-1 covers the Finnish and Swedish letters
(ä, ö, å), with anything else transliterated.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.table import Table

from server.rights.labels import label, text, value_text

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
BOLD_NAME = "DejaVuSans-Bold.ttf"
LOCAL_TIME = ZoneInfo("Europe/Helsinki")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REPLACEMENTS = {
    "\u20ac": "EUR",
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
}


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
            plain = REPLACEMENTS.get(char) or unicodedata.normalize("NFKD", char)
            out.append(plain.encode("latin-1", "ignore").decode("latin-1") or "?")
    return "".join(out)


def human(value: Any, language: str) -> str:
    """A stored value as a person reads it: local dates and times, words for codes."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        yes_no = ("kyllä", "ei") if language == "fi" else ("yes", "no")
        return yes_no[0] if value else yes_no[1]
    if isinstance(value, list):
        return ", ".join(human(v, language) for v in value)
    shown = str(value)
    if ISO_DATETIME.fullmatch(shown[:16]):
        try:
            moment = datetime.fromisoformat(shown).astimezone(LOCAL_TIME)
        except ValueError:
            return shown
        if language == "fi":
            return f"{moment.day}.{moment.month}.{moment.year} klo {moment:%H.%M}"
        return f"{moment:%Y-%m-%d %H:%M} (Finnish time)"
    if ISO_DATE.fullmatch(shown):
        day = date.fromisoformat(shown)
        return f"{day.day}.{day.month}.{day.year}" if language == "fi" else shown
    return value_text(shown, language)


class A4Document(FPDF):
    """An A4 document with 18 mm margins in the given TrueType font (regular and bold), or
    in Helvetica, with the text limited to Latin-1, when there is none."""

    def __init__(self, family: str, font: tuple[Path, Path | None] | None) -> None:
        super().__init__(format="A4")
        if font is not None:
            regular, bold = font
            self.add_font(family, "", str(regular))
            self.add_font(family, "B", str(bold or regular))
            self.text_font = family
            self.unicode_text = True
        else:
            self.text_font = "Helvetica"
            self.unicode_text = False
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def plain(self, value: str) -> str:
        return value if self.unicode_text else latin1(value)

    def ruled_table(
        self, font_size: float, line_height: float, **layout: Any
    ) -> AbstractContextManager[Table]:
        """A table in the text font, aligned left, with lines between its rows."""
        self.set_font(self.text_font, "", font_size)
        return self.table(
            line_height=line_height,
            padding=1,
            text_align="LEFT",
            borders_layout="HORIZONTAL_LINES",
            **layout,
        )

    def page_label(self) -> str:
        return f"{self.page_no()}/{{nb}}"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.text_font, "", 8)
        self.set_text_color(110)
        self.cell(0, 6, self.plain(self.page_label()), align="C")
        self.set_text_color(0)


class ReportPDF(A4Document):
    def __init__(self, language: str) -> None:
        super().__init__("Report", unicode_font())
        self.language = language

    def t(self, value: Any) -> str:
        shown = human(value, self.language)
        return shown if self.unicode_text else latin1(shown)

    def page_label(self) -> str:
        return f"{text('page', self.language)} {super().page_label()}"


def _heading(pdf: ReportPDF, title: str, width: float) -> None:
    pdf.ln(4)
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.set_font(pdf.text_font, "B", 12)
    pdf.set_fill_color(228, 236, 244)
    pdf.cell(width, 7, pdf.plain(title), fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _access_table(pdf: ReportPDF, items: list[dict[str, Any]], width: float) -> None:
    """Accesses as one table: time, purpose, operation, kinds of data."""
    names = ("at", "purpose", "operations", "data_categories")
    with pdf.ruled_table(8.5, 4.4, col_widths=(26, 40, 14, 30), width=width) as table:
        header = table.row()
        for name in names:
            header.cell(pdf.plain(label(name, pdf.language)))
        for item in items:
            values = {f["name"]: f["value"] for f in item["fields"]}
            row = table.row()
            for name in names:
                row.cell(pdf.t(values.get(name)))


def render_pdf(document: dict[str, Any]) -> bytes:
    """The report document (see `report.build_report`) as PDF bytes."""
    language = document.get("language", "fi")
    pdf = ReportPDF(language)
    pdf.set_title(pdf.plain(text("title", language)))
    pdf.set_creator("rekisteri")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font(pdf.text_font, "B", 15)
    pdf.multi_cell(
        width, 8, pdf.plain(text("title", language)), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)
    for key, value in (
        ("controller", document.get("controller")),
        ("subject", document.get("subject")),
        ("customer_number", document.get("customerNumber")),
        ("generated", document.get("generatedAt")),
    ):
        pdf.set_font(pdf.text_font, "B", 9.5)
        pdf.cell(40, 5.5, pdf.plain(text(key, language)))
        pdf.set_font(pdf.text_font, "", 9.5)
        pdf.multi_cell(width - 40, 5.5, pdf.t(value), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(
        width, 5, pdf.plain(text("intro", language)), align="L", new_x="LMARGIN", new_y="NEXT"
    )

    for section in document.get("sections", []):
        _heading(pdf, section["title"], width)
        items = section.get("items", [])
        if not items:
            pdf.set_font(pdf.text_font, "", 9.5)
            message = "none" if section.get("available", True) else "unavailable"
            pdf.multi_cell(
                width,
                5,
                pdf.plain(text(message, language)),
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            continue
        if section["key"] == "access":
            _access_table(pdf, items, width)
            continue
        for item in items:
            if pdf.get_y() > pdf.h - 35:
                pdf.add_page()
            pdf.set_font(pdf.text_font, "B", 10)
            pdf.multi_cell(
                width, 5.5, pdf.t(item.get("title")), align="L", new_x="LMARGIN", new_y="NEXT"
            )
            with pdf.ruled_table(
                9, 4.6, col_widths=(38, 62), width=width, first_row_as_headings=False
            ) as table:
                for entry in item.get("fields", []):
                    row = table.row()
                    row.cell(pdf.plain(str(entry.get("label"))))
                    row.cell(pdf.t(entry.get("value")))
            pdf.ln(1.5)
    return bytes(pdf.output())
