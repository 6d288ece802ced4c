"""Just enough of a PDF reader to get the text back out of WeasyPrint's output, for assertions in tests.

No PDF library is installed (pypdf is not a dependency, poppler's pdftotext is not on the machine), and the text
in WeasyPrint's PDFs is glyph ids in Flate-compressed content streams, so this reads what WeasyPrint writes: plain
and object-stream objects, each page's fonts and their ToUnicode maps, and the Tf / TJ / Tj operators.
"""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj\s*(<<.*?>>)\s*(stream\r?\n)?", re.S)
_REF = rb"(\d+) 0 R"
# Font choice, shown text (TJ arrays and Tj strings of glyph ids), and the operators that start a new line.
_OPERATORS = re.compile(rb"/([A-Za-z0-9+_.-]+) [\d.]+ Tf|\[(.*?)\] ?TJ|<([0-9a-fA-F]*)> ?Tj|Tm|Td|TD|T\*", re.S)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number -> (dictionary text, decoded stream or b'')."""
    found: dict[int, tuple[bytes, bytes]] = {}
    for match in _OBJ.finditer(pdf):
        number, head = int(match.group(1)), match.group(2)
        data = b""
        if match.group(3):
            length = int(re.search(rb"/Length (\d+)", head).group(1))  # type: ignore[union-attr]
            data = pdf[match.end() : match.end() + length]
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
        found[number] = (head, data)
    for head, data in list(found.values()):
        if b"/Type /ObjStm" in head:
            count = int(re.search(rb"/N (\d+)", head).group(1))  # type: ignore[union-attr]
            first = int(re.search(rb"/First (\d+)", head).group(1))  # type: ignore[union-attr]
            pairs = [int(x) for x in data[:first].split()]
            offsets = list(zip(pairs[0::2], pairs[1::2], strict=True))[:count]
            for i, (number, offset) in enumerate(offsets):
                end = first + offsets[i + 1][1] if i + 1 < len(offsets) else len(data)
                found.setdefault(number, (data[first + offset : end].strip(), b""))
    return found


def _dict_entry(head: bytes, key: bytes) -> bytes | None:
    match = re.search(rb"/" + key + rb"\s*(" + _REF + rb"|<<.*?>>)", head, re.S)
    return match.group(1) if match else None


def _resolve(objs: dict[int, tuple[bytes, bytes]], value: bytes) -> bytes:
    ref = re.fullmatch(_REF, value.strip())
    return objs[int(ref.group(1))][0] if ref else value


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _fonts(objs: dict[int, tuple[bytes, bytes]], page: bytes) -> dict[bytes, dict[int, str]]:
    resources = _resolve(objs, _dict_entry(page, b"Resources") or b"<<>>")
    fonts_entry = _dict_entry(resources, b"Font")
    if fonts_entry is None:
        return {}
    fonts = _resolve(objs, fonts_entry)
    result: dict[bytes, dict[int, str]] = {}
    for name, number in re.findall(rb"/([A-Za-z0-9+_.-]+)\s+" + _REF, fonts):
        font = objs[int(number)][0]
        to_unicode = re.search(rb"/ToUnicode " + _REF, font)
        result[name] = _cmap(objs[int(to_unicode.group(1))][1]) if to_unicode else {}
    return result


def extract_text(pdf: bytes) -> str:
    """The text of every page, one line per text-positioning run, pages in order."""
    assert pdf.startswith(b"%PDF-"), "not a PDF"
    objs = _objects(pdf)
    pages_root = next(h for h, _ in objs.values() if b"/Type /Pages" in h and b"/Parent" not in h)
    kids = [int(n) for n in re.findall(_REF, re.search(rb"/Kids \[(.*?)\]", pages_root, re.S).group(1))]  # type: ignore[union-attr]
    lines: list[str] = []
    for number in kids:
        page = objs[number][0]
        fonts = _fonts(objs, page)
        contents = [int(n) for n in re.findall(_REF, _dict_entry(page, b"Contents") or b"")]
        for content in contents:
            stream = objs[content][1]
            current: dict[int, str] = {}
            for token in _OPERATORS.finditer(stream):
                if token.group(1):
                    current = fonts.get(token.group(1), {})
                elif token.group(2) is not None or token.group(3) is not None:
                    run = token.group(2)
                    hexes = re.findall(rb"<([0-9a-fA-F]*)>", run) if run is not None else [token.group(3)]
                    text = "".join(current.get(int(h[i : i + 4], 16), "?") for h in hexes for i in range(0, len(h), 4))
                    if lines:
                        lines[-1] += text
                    else:
                        lines.append(text)
                else:
                    lines.append("")
    return "\n".join(line for line in lines if line.strip())


def plain_text(pdf: bytes) -> str:
    """The text with every run of whitespace (line and page breaks too) as one space, for substring checks."""
    return " ".join(extract_text(pdf).split())


def page_count(pdf: bytes) -> int:
    return int(re.search(rb"/Type /Pages/Kids \[.*?\]/Count (\d+)", _objects_blob(pdf), re.S).group(1))  # type: ignore[union-attr]


def _objects_blob(pdf: bytes) -> bytes:
    return b"\n".join(head for head, _ in _objects(pdf).values())
