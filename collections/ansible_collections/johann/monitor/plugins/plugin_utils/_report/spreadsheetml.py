# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SpreadsheetML (ECMA-376, the XML inside an .xlsx) for xlsx.py: text escaping, serial dates, a sheet's head
and foot, and the package's other parts. Written from the standard; read back by openpyxl in the tests.

Excel is strict where the schema is: a worksheet's children come in the schema's order (dimension,
sheetViews, sheetFormatPr, cols, sheetData, autoFilter, pageMargins), every part has its content type and
every relationship its target. A sheet's filter range is also a hidden ``_xlnm._FilterDatabase`` name of the
workbook, as Excel writes it.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import NamedTuple

XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument"
HEADER, INT_STYLE, TIME_STYLE = 1, 2, 3   # styles.xml's cellXfs (0: the default), as ``styles`` writes them
PART_ORDER = ("[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml", "xl/workbook.xml",
              "xl/_rels/workbook.xml.rels", "xl/styles.xml")


class SheetInfo(NamedTuple):
    """What the workbook's parts say of a sheet: its number (from 1), name and used range (``A1:AA31501``)."""
    number: int
    name: str
    ref: str


def letters(number: int) -> str:
    """A column's letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xml_text(text: str) -> str:
    """Text as SpreadsheetML holds it: XML-escaped, with Excel's ``_xHHHH_`` for what XML 1.0 cannot carry
    (control characters, U+FFFE, U+FFFF; carriage returns, which XML turns into line feeds) and for a literal
    ``_xHHHH_`` (written ``_x005F_xHHHH_``, so that Excel shows it as it was)."""
    if _PLAIN.fullmatch(text):
        return text
    text = _ESCAPE_ESCAPE.sub("_x005F_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def attribute(text: str) -> str:
    """Text as an XML attribute's value (in double quotes)."""
    return xml_text(text).replace('"', "&quot;")


_PLAIN = re.compile(r"[^&<>\x00-\x08\x0b-\x1f\ufffe\uffff_]*")   # nothing to escape (a "_" may start _xHHHH_)
# the "_" of a literal _xHHHH_, found by lookahead so that overlapping ones (_x0041_x0042_) are each escaped, and
# of an _xHHHH just before a character that becomes an escape itself (its "_" would close the literal one)
_ESCAPE_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}[_\x00-\x08\x0b-\x1f\ufffe\uffff])")
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 31)
_LEAP_BUG = dt.datetime(1900, 3, 1)   # Excel counts a 29 February 1900: serials from here on are one more


def excel_serial(moment: dt.datetime) -> float:
    """A naive UTC datetime as Excel's serial number (1900 date system)."""
    days = (moment - _EPOCH) / dt.timedelta(days=1)
    return days + 1 if moment >= _LEAP_BUG else days


def sheet_head(ref: str, widths: Iterable[float], selected: bool) -> str:
    """A worksheet up to its rows: its range, the header row and first column frozen, the column widths."""
    view = ' tabSelected="1"' if selected else ""
    cols = "".join(f'<col min="{n}" max="{n}" width="{width + 0.7109375:g}" customWidth="1"/>'
                   for n, width in enumerate(widths, start=1))
    return (f'{XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="{ref}"/>'
            f'<sheetViews><sheetView{view} workbookViewId="0">'
            '<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
            '<selection pane="topRight" activeCell="B1" sqref="B1"/><selection pane="bottomLeft" activeCell="A2" '
            'sqref="A2"/><selection pane="bottomRight" activeCell="B2" sqref="B2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')


def sheet_foot(ref: str) -> str:
    """A worksheet after its rows: the filter over its range, the page margins."""
    return (f'</sheetData><autoFilter ref="{ref}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
            'header="0.3" footer="0.3"/></worksheet>')


def parts(sheets: list[SheetInfo], title: str, created: dt.datetime | None, date_format: str) -> dict[str, str]:
    """The workbook's parts other than its sheets: content types, relationships, the workbook, styles, properties."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{s.number}.xml" ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
        for s in sheets)
    sheet_list = "".join(f'<sheet name="{attribute(s.name)}" sheetId="{s.number}" r:id="rId{s.number}"/>'
                         for s in sheets)
    filters = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.number - 1}" hidden="1">'
                      f"{attribute(_quoted(s.name))}!{_absolute(s.ref)}</definedName>" for s in sheets)
    sheet_rels = "".join(f'<Relationship Id="rId{s.number}" Type="{_REL}/worksheet" '
                         f'Target="worksheets/sheet{s.number}.xml"/>' for s in sheets)
    when = f'<dcterms:created xsi:type="dcterms:W3CDTF">{created:%Y-%m-%dT%H:%M:%SZ}</dcterms:created>' \
        if created else ""
    return {
        "[Content_Types].xml": (
            f'{XML}<Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>{overrides}'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'{XML}<Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>'),
        "docProps/core.xml": (
            f'{XML}<cp:coreProperties xmlns:cp="{_PKG}/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{xml_text(title)}</dc:title><dc:description>johann.monitor report</dc:description>"
            f"<dc:creator>johann.monitor</dc:creator>{when}</cp:coreProperties>"),
        "docProps/app.xml": (
            f'{XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>johann.monitor</Application></Properties>"),
        "xl/workbook.xml": (
            f'{XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheet_list}</sheets><definedNames>{filters}</definedNames></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'{XML}<Relationships xmlns="{_PKG}/relationships">{sheet_rels}'
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'{XML}<styleSheet xmlns="{_MAIN}">'
            f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{attribute(date_format)}"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1"/>'
            '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
    }


def _quoted(name: str) -> str:
    """A sheet name as a formula names it."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "'" + name.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    """``A1:B2`` as ``$A$1:$B$2``."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", end) for end in ref.split(":"))
