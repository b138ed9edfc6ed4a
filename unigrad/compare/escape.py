"""Case text (ids, sources, messages) made safe for each report format.

A case id is whatever its author typed: pipes, newlines, HTML, quotes, backslashes, formulas.
Each report writes it through one of these, and shows it as the text it is.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from typing import Any

# Markdown that could act inside a line: backslash, code, emphasis, a link's "](", table
# pipes, and an underscore that is not inside a word. Values such as [0.5, 0.5] and snake_case
# ids stay readable in the raw file.
_MD_INLINE = re.compile(r"[\\`*|~]|\](?=\()|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_LINE_START = re.compile(r"^([#>+-])")
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


# Control characters (a terminal escape, a bell, a bidi override) are shown as their escapes.
_KEEP = "\n\t"
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _hidden(ch: str) -> bool:
    return ch not in _KEEP and (unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI)


# the same characters as one pattern: Cc is U+0000-001F and U+007F-009F, Zl U+2028, Zp U+2029
_HIDDEN = re.compile(
    "[" + "".join(sorted({re.escape(chr(c)) for c in range(0x2070) if _hidden(chr(c))})) + "]"
)


def _escape(m: re.Match) -> str:
    ch = m.group(0)
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def visible(text: Any) -> str:
    """``text`` with its control characters written as escapes (``\\x1b``, ``\\u202e``),
    so that a report shows them instead of acting on them; newlines and tabs are kept."""
    return _HIDDEN.sub(_escape, str(text))


def html_text(text: Any) -> str:
    """Text for HTML (an element or an attribute value): markup and control characters shown."""
    return html.escape(visible(text))


def md(text: Any, leading: bool = False) -> str:
    """Text for Markdown (a table cell or a list item): one line, Markdown punctuation and
    pipes escaped, HTML and control characters shown as text. ``leading``: the text opens a
    list item's content, where a leading #, >, + or - would start a block."""
    one_line = visible(" ".join(str(text).split()))
    escaped = _MD_INLINE.sub(lambda m: "\\" + m.group(0), one_line)
    if leading:
        escaped = _MD_LINE_START.sub(r"\\\1", escaped)
    return html.escape(escaped, quote=False)


def script_json(data: Any) -> str:
    """JSON that can sit inside an HTML ``<script>`` element whatever the strings hold: no
    ``<``, ``>`` or ``&`` appears in it (no ``</script>``, no ``<!--``)."""
    text = json.dumps(_visible_strings(data), ensure_ascii=False)
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _visible_strings(data: Any) -> Any:
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, dict):
        return {k: _visible_strings(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_visible_strings(v) for v in data]
    return data


def spreadsheet(value: Any) -> Any:
    """A CSV field that a spreadsheet will not run as a formula (text starting with =, +, -,
    @, tab or carriage return gets a leading apostrophe), control characters shown as
    escapes; other values are left alone."""
    if isinstance(value, str) and value.startswith(_SPREADSHEET_FORMULA):
        return "'" + visible(value)
    return visible(value) if isinstance(value, str) else value


def docstring(text: str) -> str:
    """A Python string literal, triple-quoted and readable, that holds ``text`` exactly."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\n")
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return '"""' + "".join(out) + '"""'


def file_stem(*parts: str, limit: int = 80) -> str:
    """A file name (without extension) for these parts: safe characters only, at most
    ``limit`` of them plus a hash of the parts, so that long or similar ids never collide."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts)).strip("._")[:limit]
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}-{digest}"
