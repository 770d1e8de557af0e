"""Read an `.opt.md` file into a :class:`Spec`.

Markdown structure comes from markdown-it-py (it gives every block its source lines); tables are
then re-read from those lines so that each cell keeps its column and ragged rows are caught (the
GFM table rule silently pads them). Nothing here raises on bad input: every problem is a finding.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..findings import Finding, Span, finding
from .document import Cell, FrontMatter, ModelBlock, Section, Sentence, Spec, Table
from .frontmatter import check_front_matter
from .yamlnodes import YamlError, parse_yaml

MAX_SPEC_BYTES = 4 * 1024 * 1024
"""Specs hold prose and data tables; beyond this size the editor and the agents both struggle."""

_CAPTION = re.compile(r"^\s*Table:\s*([A-Za-z_][A-Za-z0-9_]*)\b(.*)$")
_DATA_FENCE = re.compile(r"^(csv|json)\s+([A-Za-z_][A-Za-z0-9_]*)\s*$")
_MD = MarkdownIt("commonmark")
# Only the block structure is needed: inline parsing (emphasis, links) of every cell and sentence
# was 90% of the time on large specs. GFM tables are found in paragraphs below, which also keeps
# markdown-it from tokenizing every cell (tables are re-read from their lines anyway).
_MD.core.ruler.disable(["inline"])
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def read_text(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> tuple[str | None, list[Finding]]:
    """The spec's text, or None with a finding that says why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return None, [finding("NEMO100", f"{path.name} is {size / 1e6:.1f} MB; specs are limited to "
                                  f"{max_bytes / 1e6:.1f} MB. Keep prose and tables in the spec and move "
                                  "bulk data out, or pass a larger --max-spec-bytes.", Span.at(0))]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [finding("NEMO100", f"{path} does not exist")]
    except IsADirectoryError:
        return None, [finding("NEMO100", f"{path} is a directory, not an .opt.md file")]
    except OSError as exc:
        return None, [finding("NEMO100", f"cannot read {path}: {exc.strerror or exc}")]
    return decode(raw)


def decode(raw: bytes) -> tuple[str | None, list[Finding]]:
    """UTF-8 text (BOM dropped), or None with a finding at the first bad byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start)
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        return None, [finding("NEMO100", f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line "
                              f"{line + 1}, column {col + 1} cannot be decoded. Save it as UTF-8.",
                              Span.at(line, col, 1))]
    return text.removeprefix("\ufeff"), []


def parse_spec(text: str) -> Spec:
    """Read a spec from its text. Pure: same text, same Spec."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = tuple(text.split("\n"))
    findings: list[Finding] = []
    if not text.strip():
        findings.append(finding("NEMO101", "the spec is empty: describe the decision problem in prose, "
                                "add its data as tables and, if you can, a `model` block", Span.at(0)))
        return Spec(text, lines, None, Span.at(0), FrontMatter({}, None, None), (), (), {}, None,
                    tuple(findings))

    front, body_lines = _front_matter(lines, findings)
    tokens = _MD.parse("\n".join(body_lines))
    reader = _BlockReader(lines, findings)
    reader.read(tokens)
    tables = reader.named_tables()
    title = reader.title or front.values.get("title")
    title_span = reader.title_span or front.value_span("title") or Span.whole_line(0, lines[0])
    return Spec(text, lines, title, title_span, front, tuple(reader.sections), tuple(reader.sentences),
                tables, reader.model, tuple(findings), reader.uncaptioned)


def _front_matter(lines: tuple[str, ...], findings: list[Finding]) -> tuple[FrontMatter, list[str]]:
    body = list(lines)
    if not lines or lines[0].strip() != "---":
        return FrontMatter({}, None, None), body
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        findings.append(finding("NEMO102", "front matter opened with `---` on line 1 is never closed: "
                                "add a `---` line after the settings", Span.whole_line(0, lines[0])))
        return FrontMatter({}, None, Span.whole_line(0, lines[0])), body
    span = Span(0, 0, end, len(lines[end]))
    for i in range(end + 1):
        body[i] = ""
    try:
        node = parse_yaml("\n".join(lines[1:end]))
    except YamlError as exc:
        findings.append(finding("NEMO102", f"front matter is not valid YAML: {exc.message}",
                                exc.span.shift(1)))
        return FrontMatter({}, None, span), body
    if node is None:
        return FrontMatter({}, None, span), body
    node = node.shifted(1)
    if not node.is_map:
        findings.append(finding("NEMO102", "front matter must be a mapping of settings (`key: value` lines)",
                                node.span))
        return FrontMatter({}, None, span), body
    values, problems = check_front_matter(node)
    findings.extend(problems)
    return FrontMatter(values, node, span), body


class _BlockReader:
    """Walks markdown-it's block tokens once and collects what the spec is made of."""

    def __init__(self, lines: tuple[str, ...], findings: list[Finding]) -> None:
        self.lines = lines
        self.findings = findings
        self.sections: list[Section] = []
        self.sentences: list[Sentence] = []
        self.model: ModelBlock | None = None
        self.title: str | None = None
        self.title_span: Span | None = None
        self.tables: list[Table] = []
        self.unnamed: list[tuple[int, int, Table]] = []
        self.captions: list[tuple[int, str, Span]] = []
        self.uncaptioned: tuple[Span, ...] = ()

    def read(self, tokens: list[Token]) -> None:
        section: str | None = None
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open" and tok.map:
                title = tokens[i + 1].content.strip()
                line = tok.map[0]
                span = Span.whole_line(line, self.lines[line])
                self.sections.append(Section(title, int(tok.tag[1:]), span))
                section = title
                if self.title is None and tok.tag == "h1":
                    self.title, self.title_span = title, span
            elif tok.type == "paragraph_open" and tok.map:
                self._paragraph_or_table(tokens[i + 1].content, tok.map[0], tok.map[1], section)
            elif tok.type == "fence" and tok.map:
                self._fence(tok)

    def _paragraph_or_table(self, content: str, first: int, end: int, section: str | None) -> None:
        """A paragraph may hold a GFM table: a row with `|` followed by a `|---|` delimiter row."""
        for ln in range(first, end - 1):
            if "|" in self.lines[ln] and "|" in self.lines[ln + 1] and _DELIMITER_ROW.match(self.lines[ln + 1]):
                if ln > first:
                    self._paragraph("\n".join(content.split("\n")[:ln - first]), first, section)
                self._table(ln, end, section)
                return
        self._paragraph(content, first, section)

    def _paragraph(self, content: str, first: int, section: str | None) -> None:
        """A caption (`Table: NAME` as the paragraph's first line), then prose split into sentences.

        Prose on the lines right after a caption (no blank line between) is still prose.
        """
        head, _, rest = content.partition("\n")
        m = _CAPTION.match(head)
        if m:
            col = self.lines[first].find(m.group(1))
            self.captions.append((first, m.group(1), Span.at(first, max(col, 0), len(m.group(1)))))
            content, first = rest, first + 1
        for text, span in split_sentences(content, first, self.lines):
            self.sentences.append(Sentence(text, span, section))

    def _table(self, start: int, end: int, section: str | None) -> None:
        # GFM continues a table over any following non-blank line, so a caption written right under
        # the last row (and prose after it) arrives as table rows: end the table at the caption.
        for ln in range(start + 2, end):
            if _CAPTION.match(self.lines[ln]) and "|" not in self.lines[ln]:
                rest = [line.strip() for line in self.lines[ln:end]]
                self._paragraph("\n".join(rest), ln, section)
                end = ln
                break
        rows: list[tuple[Cell, ...]] = []
        header: tuple[Cell, ...] = ()
        for ln in range(start, end):
            cells = _split_row(self.lines[ln], ln)
            if ln == start:
                header = cells
            elif ln == start + 1:
                continue  # the |---|---| delimiter row
            elif cells:
                if len(cells) != len(header):
                    self.findings.append(finding(
                        "NEMO111", f"this row has {len(cells)} cells but the header has {len(header)} "
                        f"({', '.join(c.text for c in header)})", Span.whole_line(ln, self.lines[ln])))
                    cells = (cells + tuple(Cell("", Span.at(ln, len(self.lines[ln])), padded=True)
                                           for _ in header))[:len(header)]
                rows.append(cells)
        span = Span(start, 0, end - 1, len(self.lines[end - 1]))
        table = Table("", tuple(c.text for c in header), header, tuple(rows), span, span, "markdown")
        self.unnamed.append((start, end, table))

    def _fence(self, tok: Token) -> None:
        info = tok.info.strip()
        start, end = tok.map
        span = Span(start, 0, end - 1, len(self.lines[end - 1]))
        first = start + 1
        if info == "model" or info.startswith("model "):
            if self.model is not None:
                self.findings.append(finding("NEMO133", "only the first `model` block is used; merge this "
                                             "one into it", Span.whole_line(start, self.lines[start])))
                return
            self.model = ModelBlock(tok.content, first, span)
            return
        m = _DATA_FENCE.match(info)
        if not m:
            return
        kind, name = m.groups()
        col = self.lines[start].find(name)
        name_span = Span.at(start, max(col, 0), len(name))
        table = (_csv_table if kind == "csv" else _json_table)(name, tok.content, first, span, name_span,
                                                               self.findings)
        if table is not None:
            self.tables.append(table)

    def named_tables(self) -> dict[str, Table]:
        named = list(self.tables)
        used: set[int] = set()
        for line, name, name_span in self.captions:
            match = self._table_for_caption(line, used)
            if match is None:
                self.findings.append(finding(
                    "NEMO110", f"caption `Table: {name}` names no table: put it on the line right after "
                    "the table it names (a blank line between is fine)", name_span))
                continue
            used.add(match)
            t = self.unnamed[match][2]
            named.append(Table(name, t.columns, t.header, t.rows, t.span, name_span, "markdown"))
        self.uncaptioned = tuple(t.span for i, (_, _, t) in enumerate(self.unnamed) if i not in used)
        result: dict[str, Table] = {}
        # in the order they are written, so that the second of two same-named tables is the one reported
        for t in sorted(named, key=lambda t: (t.name_span.line, t.name_span.col)):
            if t.name in result:
                self.findings.append(finding("NEMO112", f"a table named `{t.name}` is already defined on line "
                                             f"{result[t.name].name_span.line + 1}", t.name_span))
                continue
            result[t.name] = t
        return result

    def _table_for_caption(self, line: int, used: set[int]) -> int | None:
        def blank_between(a: int, b: int) -> bool:
            return all(not self.lines[i].strip() for i in range(a, b))

        for idx, (start, end, _) in enumerate(self.unnamed):
            if idx not in used and end <= line and blank_between(end, line):
                return idx
        for idx, (start, end, _) in enumerate(self.unnamed):
            if idx not in used and start > line and blank_between(line + 1, start):
                return idx
        return None


@functools.lru_cache(maxsize=200_000)
def _split_row(line: str, ln: int) -> tuple[Cell, ...]:
    """Cells of a Markdown table row, with spans; escaped pipes (`\\|`) stay in the cell.

    Memoized: re-reading a large table on every keystroke elsewhere costs nothing then.
    """
    s = line.rstrip()
    if "\\" in s:
        bounds: list[int] = [i for i, ch in enumerate(s) if ch == "|" and (i == 0 or s[i - 1] != "\\")]
    else:
        bounds, at = [], s.find("|")
        while at >= 0:
            bounds.append(at)
            at = s.find("|", at + 1)
    lead = len(s) - len(s.lstrip())
    if not bounds or bounds[0] != lead:
        bounds.insert(0, lead - 1)
    if bounds[-1] != len(s) - 1:
        bounds.append(len(s))
    cells = []
    for a, b in zip(bounds, bounds[1:]):
        raw = s[a + 1:b]
        text = raw.strip().replace("\\|", "|")
        col = a + 1 + (len(raw) - len(raw.lstrip()))
        cells.append(Cell(text, Span.at(ln, col, len(raw.strip()))))
    return tuple(cells)


def _csv_table(name: str, content: str, first: int, span: Span, name_span: Span,
               findings: list[Finding]) -> Table | None:
    rows: list[tuple[Cell, ...]] = []
    header: tuple[Cell, ...] = ()
    for offset, line in enumerate(content.split("\n")):
        if not line.strip():
            continue
        ln = first + offset
        try:
            values = next(csv.reader(io.StringIO(line), skipinitialspace=True))
        except (csv.Error, StopIteration) as exc:
            findings.append(finding("NEMO113", f"csv row cannot be read: {exc}", Span.at(ln, 0, len(line))))
            continue
        cells, col = [], 0
        for v in values:
            found = line.find(v, col)
            at = found if found >= 0 else col
            cells.append(Cell(v.strip(), Span.at(ln, at, len(v))))
            col = at + len(v)
        if not header:
            header = tuple(cells)
            continue
        if len(cells) != len(header):
            findings.append(finding("NEMO111", f"this csv row has {len(cells)} values but the header has "
                                    f"{len(header)}", Span.at(ln, 0, len(line))))
            cells = (cells + [Cell("", Span.at(ln, len(line)), padded=True)] * len(header))[:len(header)]
        rows.append(tuple(cells))
    if not header:
        findings.append(finding("NEMO113", f"csv block `{name}` is empty: its first line must name the columns",
                                name_span))
        return None
    return Table(name, tuple(c.text for c in header), header, tuple(rows), span, name_span, "csv")


def _char_span(content: str, first: int, line: int, col: int) -> Span:
    """The character at (line, col) of a block's content, shifted to the file; an empty span where
    that is past the end of its line (a parser reports an unexpected end one column further)."""
    lines = content.split("\n")
    line = min(line, len(lines) - 1)
    width = len(lines[line])
    return Span.at(first + line, min(col, width), 1 if col < width else 0)


def _json_table(name: str, content: str, first: int, span: Span, name_span: Span,
                findings: list[Finding]) -> Table | None:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        findings.append(finding("NEMO113", f"json block `{name}` is not valid JSON: {exc.msg}",
                                _char_span(content, first, exc.lineno - 1, exc.colno - 1)))
        return None
    except (ValueError, RecursionError) as exc:
        # An integer of more than 4300 digits (ValueError) or `[[[[...` nested past the recursion limit.
        why = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        findings.append(finding("NEMO113", f"json block `{name}` cannot be read: {why}", name_span))
        return None
    at = Span.at(first, 0)
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        columns = list(data)
        length = max(len(v) for v in data.values())
        if any(len(v) != length for v in data.values()):
            findings.append(finding("NEMO111", f"json block `{name}`: columns have different lengths", name_span))
            return None
        records = [{c: data[c][i] for c in columns} for i in range(length)]
    elif isinstance(data, list) and all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(k for r in data for k in r))
        records = data
    else:
        findings.append(finding("NEMO113", f"json block `{name}` must be a list of row objects "
                                "(`[{\"food\": \"bread\", \"cost\": 2}]`) or an object of columns "
                                "(`{\"food\": [...], \"cost\": [...]}`)", name_span))
        return None
    header = tuple(Cell(str(c), at) for c in columns)
    rows = tuple(tuple(Cell("" if r.get(c) is None else str(r.get(c)), at) for c in columns) for r in records)
    return Table(name, tuple(str(c) for c in columns), header, rows, span, name_span, "json")


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|no|Fig|Eq|Dr|Mr|Ms|St)\.$", re.IGNORECASE)


def split_sentences(content: str, first: int, lines: tuple[str, ...]) -> list[tuple[str, Span]]:
    """Split a paragraph's inline text into sentences, each with its span in the file."""
    parts = content.split("\n")
    starts = []
    for k, part in enumerate(parts):
        ln = first + k
        src = lines[ln] if ln < len(lines) else ""
        col = src.find(part) if part else 0
        starts.append(col if col >= 0 else len(src) - len(src.lstrip()))
    positions: list[tuple[int, int]] = []  # (line, col) of each character of the joined text
    for k, part in enumerate(parts):
        positions.extend((first + k, starts[k] + j) for j in range(len(part)))
        positions.append((first + k, starts[k] + len(part)))  # the newline (or end)
    joined = "\n".join(parts)
    result: list[tuple[str, Span]] = []
    begin = 0
    for m in _SENTENCE_END.finditer(joined):
        if _ABBREV.search(joined[begin:m.start()]):
            continue
        _add_sentence(joined, begin, m.start() + len(m.group(0).rstrip()), positions, result)
        begin = m.end()
    _add_sentence(joined, begin, len(joined), positions, result)
    return result


def _add_sentence(joined: str, a: int, b: int, positions: list[tuple[int, int]],
                  out: list[tuple[str, Span]]) -> None:
    text = joined[a:b].strip()
    if not text:
        return
    a += len(joined[a:b]) - len(joined[a:b].lstrip())
    b = a + len(text)
    (l1, c1), (l2, c2) = positions[a], positions[b - 1]
    out.append((" ".join(text.split()), Span(l1, c1, l2, c2 + 1)))
