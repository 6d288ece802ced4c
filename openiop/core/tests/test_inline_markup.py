"""No template may bring back what the content security policy refuses: a style="" attribute, a <style> block (PDF
templates aside: WeasyPrint renders those on the server), an inline <script> without the request's nonce, an on*=""
event handler or a javascript: URL. A test of the files, so it fails at the line that reintroduces one."""

from __future__ import annotations

import re
from pathlib import Path

import openiop

ROOT = Path(openiop.__file__).resolve().parent

FORBIDDEN = {
    "style attribute": re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=", re.S),
    "inline event handler": re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", re.S),
    "javascript: URL": re.compile(r"""=\s*["']\s*javascript:""", re.I),
}
STYLE_BLOCK = re.compile(r"<style\b", re.I)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
NONCE = 'nonce="{{ request.csp_nonce }}"'


def templates() -> list[Path]:
    return sorted(p for p in ROOT.rglob("templates/**/*.html") if "tests" not in p.parts)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def test_templates_hold_nothing_the_policy_refuses():
    found = []
    paths = templates()
    assert len(paths) > 100  # the walk found the app templates
    for path in paths:
        text = path.read_text()
        where = path.relative_to(ROOT.parent)
        for what, pattern in FORBIDDEN.items():
            found += [f"{where}:{line_of(text, m.start())}: {what}" for m in pattern.finditer(text)]
        if "pdf" not in path.parts:
            found += [f"{where}:{line_of(text, m.start())}: <style> block" for m in STYLE_BLOCK.finditer(text)]
        for m in SCRIPT_TAG.finditer(text):
            if " src=" not in m.group(0) and NONCE not in m.group(0):
                found.append(f"{where}:{line_of(text, m.start())}: inline <script> without the nonce")
    assert not found, "\n".join(found)


def test_the_check_catches_each_kind():
    bad = '<div class="x"\n  style="color: red"></div><input onfocus="go()"><a href="javascript:go()">x</a>'
    assert all(pattern.search(bad) for pattern in FORBIDDEN.values())
    assert not any(pattern.search('<div class="x" data-css-top="5%">one, two</div>') for pattern in FORBIDDEN.values())
