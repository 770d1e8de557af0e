"""What the `.opt.md` reader finds: plain, frozen data with source spans."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Span
from .yamlnodes import YNode

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def text_sha256(text: str) -> str:
    """The identity of a spec's text as the reader sees it (no BOM, line endings normalized): a run
    records it in its report, and the language server restores that report only for the same text."""
    normalized = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=65536)
def parse_number(text: str) -> int | float | None:
    """A table cell as a number, or None. Accepts `1200`, `1,200`, `1_200`, `12.5`, `$3.50`, `1e-3`."""
    t = text.strip().replace("_", "")
    if t.startswith("$"):
        t = t[1:]
    elif t[:2] in ("-$", "+$"):
        t = t[0] + t[2:]
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    if re.fullmatch(r"[+-]?\d+", t):
        try:
            return int(t)
        except ValueError:  # more than 4300 digits: Python refuses the conversion; as large as `1e999`
            return float(t)
    return float(t)


@dataclass(frozen=True)
class Cell:
    """One table cell as written, with its span."""

    text: str
    span: Span
    padded: bool = False
    """True for a cell missing from a short row (already reported as NEMO111)."""

    @property
    def number(self) -> int | float | None:
        return parse_number(self.text)

    @property
    def value(self) -> int | float | str:
        """A number when the text is one, else the stripped text (a key such as `bread`)."""
        n = self.number
        return self.text.strip() if n is None else n


@dataclass(frozen=True)
class Table:
    """A named table: a Markdown table with a `Table: NAME` caption, or a `csv`/`json` block."""

    name: str
    columns: tuple[str, ...]
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    span: Span
    name_span: Span
    origin: str
    """"markdown", "csv" or "json"."""

    def column_index(self, name: str) -> int | None:
        """Find a column by name, ignoring case, surrounding spaces and a trailing unit in brackets."""
        wanted = _norm_col(name)
        for i, c in enumerate(self.columns):
            if _norm_col(c) == wanted:
                return i
        return None

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns),
                "rows": [[c.value for c in row] for row in self.rows]}


def _norm_col(name: str) -> str:
    name = re.sub(r"\s*[\(\[].*?[\)\]]\s*$", "", name.strip())  # `cost ($)` -> `cost`
    return name.strip().lower().replace(" ", "_")


@dataclass(frozen=True)
class Sentence:
    """A prose sentence: what findings about a rule in the text point at."""

    text: str
    span: Span
    section: str | None


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    span: Span
    """The heading line."""


@dataclass(frozen=True)
class ModelBlock:
    """The fenced `model` block: the consolidated, formal specification."""

    text: str
    first_line: int
    """Line of the block's first content line (the one after the opening fence)."""
    span: Span
    """The whole fence, opening to closing line."""


@dataclass(frozen=True)
class FrontMatter:
    values: dict[str, Any]
    node: YNode | None
    span: Span | None

    def key_span(self, key: str) -> Span | None:
        if self.node is None:
            return None
        for k, _ in self.node.items():
            if k.value == key:
                return k.span
        return None

    def value_span(self, key: str) -> Span | None:
        if self.node is None:
            return None
        v = self.node.get(key)
        return v.span if v is not None else None


@dataclass(frozen=True)
class Spec:
    """Everything read from one `.opt.md` file. Reading never raises: problems are findings."""

    text: str
    lines: tuple[str, ...]
    title: str | None
    title_span: Span
    front: FrontMatter
    sections: tuple[Section, ...]
    sentences: tuple[Sentence, ...]
    tables: dict[str, Table]
    model: ModelBlock | None
    findings: tuple[Finding, ...] = field(default=())
    uncaptioned: tuple[Span, ...] = ()
    """Markdown tables without a `Table: NAME` caption (the model cannot refer to them)."""

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def line_span(self, line: int) -> Span:
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        return Span(line, 0, line, len(text))

    def sentence_at(self, line: int) -> Sentence | None:
        for s in self.sentences:
            if s.span.line <= line <= s.span.end_line:
                return s
        return None

    def find_sentence(self, quote: str) -> Sentence | None:
        """The sentence that contains a quote (as agents cite the text they implement)."""
        q = " ".join(quote.split()).lower()
        if not q:
            return None
        for s in self.sentences:
            if q in " ".join(s.text.split()).lower():
                return s
        return None
