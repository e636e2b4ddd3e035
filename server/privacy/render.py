"""The record of processing as Markdown, HTML or PDF (fpdf2, the fonts of the access
report's PDF: server/rights/pdf.py)."""

from __future__ import annotations

import html
import re

from server.privacy.record import Block, RecordDocument
from server.rights.pdf import A4Document, latin1, unicode_font

FORMATS = ("md", "html", "pdf")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(document: RecordDocument) -> str:
    lines = [f"# {document.title}", ""]
    lines += [f"- **{key}:** {value}" for key, value in document.facts]
    lines.append("")
    if document.problems:
        lines += [f"> **{_problems_title(document)}**", ">"]
        lines += [f"> - {problem}" for problem in document.problems]
        lines.append("")
    for section in document.sections:
        lines += [f"{'#' * section.level} {section.title}", ""]
        for block in section.blocks:
            lines += _md_block(block)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_block(block: Block) -> list[str]:
    if block.kind == "list":
        return [f"- {item}" for item in block.items]
    if block.kind == "table":
        out = ["| " + " | ".join(_md_cell(h) for h in block.header) + " |"]
        out.append("|" + "---|" * len(block.header))
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return out
    if block.kind == "alert":
        return [f"> **⚠ {block.text}**"]
    return [block.text]


def _problems_title(document: RecordDocument) -> str:
    return "HUOMIO" if document.language == "fi" else "WARNING"


def _inline_html(text: str) -> str:
    escaped = html.escape(text)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def render_html(document: RecordDocument) -> str:
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{document.language}">',
        '<head><meta charset="utf-8">',
        f"<title>{html.escape(document.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
        "padding:.2em .5em;text-align:left;vertical-align:top}"
        ".alert{border:3px solid #b00;background:#fee;color:#600;padding:.5em 1em;"
        "font-weight:bold}</style>",
        "</head><body>",
        f"<h1>{html.escape(document.title)}</h1>",
        "<dl>",
    ]
    for key, value in document.facts:
        out.append(f"<dt>{html.escape(key)}</dt><dd>{html.escape(value)}</dd>")
    out.append("</dl>")
    if document.problems:
        out.append(f'<div class="alert" role="alert"><p>{_problems_title(document)}</p><ul>')
        out += [f"<li>{html.escape(problem)}</li>" for problem in document.problems]
        out.append("</ul></div>")
    for section in document.sections:
        out.append(f"<h{section.level}>{html.escape(section.title)}</h{section.level}>")
        for block in section.blocks:
            out.append(_html_block(block))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_block(block: Block) -> str:
    if block.kind == "list":
        return "<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in block.items) + "</ul>"
    if block.kind == "table":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if block.kind == "alert":
        return f'<p class="alert" role="alert">⚠ {_inline_html(block.text)}</p>'
    return f"<p>{_inline_html(block.text)}</p>"


class RecordPDF(A4Document):
    def __init__(self) -> None:
        super().__init__("Record", unicode_font())

    def plain(self, value: str) -> str:
        value = _CODE.sub(r"\1", _BOLD.sub(r"\1", value))
        if not self.unicode_text:
            value = latin1(value.replace("⚠", "!").replace("«", '"').replace("»", '"'))
        return value

    def paragraph(self, text: str, size: float = 9.5, bold: bool = False) -> None:
        width = self.w - self.l_margin - self.r_margin
        self.set_font(self.text_font, "B" if bold else "", size)
        self.multi_cell(width, size * 0.55, self.plain(text), new_x="LMARGIN", new_y="NEXT")


def render_pdf(document: RecordDocument) -> bytes:
    pdf = RecordPDF()
    pdf.set_title(pdf.plain(document.title))
    pdf.set_creator("rekisteri")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.paragraph(document.title, size=15, bold=True)
    pdf.ln(2)
    for key, value in document.facts:
        pdf.paragraph(f"{key}: {value}")
    if document.problems:
        pdf.ln(2)
        pdf.set_text_color(170, 0, 0)
        pdf.paragraph(_problems_title(document), size=12, bold=True)
        for problem in document.problems:
            pdf.paragraph(f"! {problem}", bold=True)
        pdf.set_text_color(0)
    for section in document.sections:
        pdf.ln(3)
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.paragraph(section.title, size=13 if section.level == 2 else 11, bold=True)
        pdf.ln(1)
        for block in section.blocks:
            if block.kind == "list":
                for item in block.items:
                    pdf.paragraph(f"- {item}", size=8.5)
            elif block.kind == "table":
                with pdf.ruled_table(8, 4.2, width=width) as table:
                    header = table.row()
                    for cell in block.header:
                        header.cell(pdf.plain(cell))
                    for values in block.rows:
                        row = table.row()
                        for cell in values:
                            row.cell(pdf.plain(cell))
            elif block.kind == "alert":
                pdf.set_text_color(170, 0, 0)
                pdf.paragraph(block.text, bold=True)
                pdf.set_text_color(0)
            else:
                pdf.paragraph(block.text)
            pdf.ln(1)
    return bytes(pdf.output())


def render(document: RecordDocument, output_format: str) -> bytes:
    if output_format == "md":
        return render_markdown(document).encode()
    if output_format == "html":
        return render_html(document).encode()
    if output_format == "pdf":
        return render_pdf(document)
    raise ValueError(f"unknown format {output_format!r} (known: {', '.join(FORMATS)})")
