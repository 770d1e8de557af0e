"""The `.opt.md` reader: front matter, prose, tables, data blocks and the model block, with spans.

Every span in these tests is 0-based (as in the API and in LSP); `line_of` finds the line of a piece
of text so that a test says *where* a finding belongs rather than a bare number.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from nemo_lsp.findings import Finding, Severity
from nemo_lsp.spec.document import Spec, parse_number
from nemo_lsp.spec.reader import decode, parse_spec, read_text


def read(text: str) -> Spec:
    return parse_spec(dedent(text).lstrip("\n"))


def line_of(spec: Spec, needle: str, start: int = 0) -> int:
    """The 0-based line of the first line (from `start`) that contains `needle`."""
    return next(i for i, line in enumerate(spec.lines) if i >= start and needle in line)


def only(spec: Spec, code: str) -> Finding:
    found = [f for f in spec.findings if f.code == code]
    assert len(found) == 1, f"expected one {code}, got {spec.findings}"
    return found[0]


def codes(spec: Spec) -> list[str]:
    return [f.code for f in spec.findings]


def text_at(spec: Spec, f_or_span) -> str:
    span = getattr(f_or_span, "span", f_or_span)
    assert span.line == span.end_line
    return spec.lines[span.line][span.col:span.end_col]


# --- front matter -------------------------------------------------------------------------------


def test_front_matter_settings_are_read_and_hidden_from_the_body() -> None:
    spec = read("""
        ---
        samples: 3
        time_limit: 2.5
        expect:
          objective: 78450
          status: optimal
        ---
        # Sailco
        """)
    assert spec.findings == ()
    assert spec.front.values == {"samples": 3, "time_limit": 2.5,
                                 "expect": {"objective": 78450, "status": "optimal"}}
    assert spec.front.span is not None and (spec.front.span.line, spec.front.span.end_line) == (0, 6)
    assert spec.front.value_span("samples").line == 1
    assert spec.title == "Sailco"
    assert spec.sentences == ()  # `samples: 3` is a setting, not prose


def test_empty_front_matter_is_no_settings_and_no_finding() -> None:
    spec = read("""
        ---
        ---
        # T
        """)
    assert spec.findings == ()
    assert spec.front.values == {}


def test_unknown_front_matter_key_is_a_warning_that_suggests_the_close_key() -> None:
    spec = read("""
        ---
        samples: 3
        time_limt: 5
        ---
        # T
        """)
    f = only(spec, "NEMO103")
    assert f.severity == Severity.WARNING
    assert "did you mean `time_limit`?" in f.message
    assert (f.span.line, text_at(spec, f)) == (2, "time_limt")
    assert spec.front.values == {"samples": 3}


def test_unknown_front_matter_key_unlike_any_lists_the_known_keys() -> None:
    f = only(read("---\nzzz: 1\n---\n# T\n"), "NEMO103")
    assert "known keys:" in f.message and "samples" in f.message


@pytest.mark.parametrize("setting, bad", [
    pytest.param("samples: many", "many", id="samples-text"),
    pytest.param("samples: 0", "0", id="samples-zero"),
    pytest.param("samples: true", "true", id="samples-bool"),
    pytest.param("time_limit: -1", "-1", id="time-limit-negative"),
    pytest.param("memory_limit: 1.5", "1.5", id="memory-limit-fraction"),
    pytest.param("autonomous: sometimes", "sometimes", id="autonomous-not-bool"),
    pytest.param("accept_status: optimal", "optimal", id="accept-status-not-a-list"),
    pytest.param("expect: {status: solved}", "solved", id="expect-status-unknown"),
    pytest.param("expect: {objective: high}", "high", id="expect-objective-text"),
    pytest.param("tolerance: {abs: -1}", "-1", id="tolerance-negative"),
])
def test_front_matter_value_of_the_wrong_type_is_nemo104_at_the_value(setting: str, bad: str) -> None:
    spec = read(f"---\nagent: formal\n{setting}\n---\n# T\n")
    f = only(spec, "NEMO104")
    assert f.is_error
    assert (f.span.line, text_at(spec, f)) == (2, bad)
    assert spec.front.values == {"agent": "formal"}  # the bad setting is dropped, the others kept


@pytest.mark.parametrize("yaml_lines, bad_line", [
    pytest.param(["samples: 3", "agent: [formal", "time_limit: 1"], 2, id="unclosed-flow-list"),
    pytest.param(["samples: 3", "  nested: : x"], 2, id="colon-in-plain-value"),
    pytest.param(["samples: 3", "expect:", "  status: optimal: yes"], 3, id="second-colon"),
    pytest.param(["samples: 3", "agent: 'formal"], 2, id="unclosed-quote"),
])
def test_malformed_front_matter_is_nemo102_at_the_offending_line(yaml_lines: list[str], bad_line: int) -> None:
    spec = parse_spec("\n".join(["---", *yaml_lines, "---", "# T", ""]))
    f = only(spec, "NEMO102")
    assert f.span.line == bad_line, f
    assert spec.front.values == {}
    assert spec.title == "T"


def test_front_matter_that_is_not_a_mapping_is_nemo102() -> None:
    spec = read("""
        ---
        - samples
        - 3
        ---
        # T
        """)
    assert only(spec, "NEMO102").span.line == 1


def test_unclosed_front_matter_is_nemo102_on_the_opening_line() -> None:
    spec = read("""
        ---
        samples: 3

        # T
        """)
    f = only(spec, "NEMO102")
    assert "never closed" in f.message
    assert (f.span.line, f.span.col, f.span.end_col) == (0, 0, 3)
    assert spec.front.values == {}


# --- title, sections, sentences -----------------------------------------------------------------


def test_first_h1_is_the_title_and_every_heading_is_a_section() -> None:
    spec = read("""
        # Diet problem

        Intro.

        ## The goal

        Minimize cost.

        ### Details

        # Another h1
        """)
    assert spec.title == "Diet problem"
    assert spec.title_span.line == 0
    assert [(s.title, s.level, s.span.line) for s in spec.sections] == [
        ("Diet problem", 1, 0), ("The goal", 2, 4), ("Details", 3, 8), ("Another h1", 1, 10)]


def test_sentence_knows_the_section_it_is_written_in() -> None:
    spec = read("""
        Before any heading.

        # T

        ## Rules

        Demand must be met.
        """)
    assert [(s.text, s.section) for s in spec.sentences] == [
        ("Before any heading.", None), ("Demand must be met.", "Rules")]


def test_spec_without_an_h1_has_no_title() -> None:
    spec = read("""
        ## Only a subsection

        Text.
        """)
    assert spec.title is None
    assert spec.title_span.line == 0


def test_paragraph_is_split_into_sentences_whose_spans_point_at_their_text() -> None:
    spec = read("""
        # T

        We bake bread and cake. Each batch of bread needs 2 hours! Is that enough? Yes.
        """)
    assert [s.text for s in spec.sentences] == [
        "We bake bread and cake.", "Each batch of bread needs 2 hours!", "Is that enough?", "Yes."]
    for s in spec.sentences:
        assert s.span.line == 2
        assert text_at(spec, s.span) == s.text


def test_sentence_over_several_lines_starts_and_ends_where_its_text_does() -> None:
    spec = read("""
        # T

        The oven runs 40 hours. Boats built in a quarter
        can be sold in that same
        quarter. Stock is free.
        """)
    s = spec.sentences[1]
    assert s.text == "Boats built in a quarter can be sold in that same quarter."
    assert (s.span.line, s.span.col) == (2, spec.lines[2].index("Boats"))
    assert (s.span.end_line, s.span.end_col) == (4, len("quarter."))
    assert spec.sentence_at(3) == s


def test_sentence_in_a_list_item_is_spanned_after_the_bullet() -> None:
    spec = read("""
        # T

        - Demand must be met on time.
        """)
    (s,) = spec.sentences
    assert text_at(spec, s.span) == "Demand must be met on time."
    assert s.span.col == 2


@pytest.mark.parametrize("paragraph", [
    pytest.param("Some foods, e.g. bread, are cheap.", id="e.g."),
    pytest.param("One food, i.e. milk, is rich in calcium.", id="i.e."),
    pytest.param("Bread, milk etc. Are all foods we buy.", id="etc."),
    pytest.param("Plant A vs. Plant B is the choice.", id="vs."),
    pytest.param("Each boat costs 3.50 dollars to hold.", id="decimal-number"),
    pytest.param("See Fig. 3 for the network.", id="Fig."),
])
def test_abbreviations_and_decimals_do_not_end_a_sentence(paragraph: str) -> None:
    spec = read(f"# T\n\n{paragraph}\n")
    assert [s.text for s in spec.sentences] == [paragraph]


def test_find_sentence_matches_a_quote_regardless_of_case_and_line_breaks() -> None:
    spec = read("""
        # T

        At most 40 boats per quarter can be built
        with regular-time labor. Overtime is not limited.
        """)
    s = spec.find_sentence("at most 40 boats per quarter can be built with regular-time")
    assert s is not None and s.span.line == 2 and s.span.end_line == 3
    assert spec.find_sentence("no such rule") is None
    assert spec.find_sentence("   ") is None


# --- Markdown tables ----------------------------------------------------------------------------

FOODS = """\
# T

| food  | cost |
|-------|------|
| bread | 2    |
| milk  | 3.5  |
"""


def test_caption_on_the_line_right_below_names_the_table_above() -> None:
    spec = parse_spec(FOODS + "Table: foods\n")
    assert spec.findings == ()
    t = spec.tables["foods"]
    assert t.columns == ("food", "cost")
    assert [[c.value for c in row] for row in t.rows] == [["bread", 2], ["milk", 3.5]]
    assert (t.span.line, t.span.end_line) == (2, 5)
    assert (t.name_span.line, text_at(spec, t.name_span)) == (6, "foods")


def test_caption_after_blank_line_names_the_table_above() -> None:
    spec = parse_spec(FOODS + "\nTable: foods\n")
    assert spec.findings == ()
    assert spec.tables["foods"].name_span.line == 7
    assert spec.tables["foods"].origin == "markdown"


def test_caption_on_the_line_above_names_the_table_below() -> None:
    spec = read("""
        # T

        Table: foods

        | food  | cost |
        |-------|------|
        | bread | 2    |
        """)
    assert spec.findings == ()
    assert spec.tables["foods"].span.line == 4


def test_caption_right_below_a_one_column_table_is_not_read_as_a_row() -> None:
    spec = read("""
        # T

        | food  |
        |-------|
        | bread |
        Table: foods
        """)
    assert [[c.text for c in row] for row in spec.tables["foods"].rows] == [["bread"]]


def test_prose_right_after_a_caption_stays_prose() -> None:
    spec = parse_spec(FOODS + "Table: foods\nCosts are in dollars.\n")
    assert spec.findings == ()
    assert "foods" in spec.tables
    assert [(s.text, s.span.line) for s in spec.sentences] == [("Costs are in dollars.", 7)]


def test_caption_with_trailing_words_takes_the_name_only() -> None:
    spec = parse_spec(FOODS + "\nTable: foods (prices in $)\n")
    assert list(spec.tables) == ["foods"]


def test_two_captions_name_two_tables_in_order() -> None:
    spec = read("""
        # T

        | plant | capacity |
        |-------|----------|
        | a     | 1        |

        Table: plants

        | market | demand |
        |--------|--------|
        | x      | 2      |

        Table: markets
        """)
    assert spec.findings == ()
    assert {n: t.columns for n, t in spec.tables.items()} == {
        "plants": ("plant", "capacity"), "markets": ("market", "demand")}


def test_table_without_caption_is_not_named() -> None:
    spec = parse_spec(FOODS)
    assert spec.tables == {}
    assert spec.findings == ()


@pytest.mark.parametrize("row, cells", [
    pytest.param("| cheese | 4 | 7 |", 3, id="too-many"),
    pytest.param("| cheese |", 1, id="too-few"),
])
def test_ragged_row_is_nemo111_at_that_rows_line(row: str, cells: int) -> None:
    spec = parse_spec(FOODS + row + "\n| eggs | 1 |\n\nTable: foods\n")
    f = only(spec, "NEMO111")
    assert f.span.line == line_of(spec, "cheese")
    assert f"has {cells} cells but the header has 2" in f.message
    # the table is still read, the ragged row cut or padded to the header
    assert [len(r) for r in spec.tables["foods"].rows] == [2, 2, 2, 2]


def test_caption_naming_no_table_is_nemo110_at_the_name() -> None:
    spec = read("""
        # T

        Some prose.

        Table: ghost
        """)
    f = only(spec, "NEMO110")
    assert (f.span.line, text_at(spec, f)) == (4, "ghost")
    assert spec.tables == {}


def test_caption_separated_by_prose_from_the_table_names_nothing() -> None:
    spec = parse_spec(FOODS + "\nSome prose in between.\n\nTable: foods\n")
    assert codes(spec) == ["NEMO110"]


def test_second_table_with_the_same_name_is_nemo112_at_its_caption() -> None:
    spec = parse_spec(FOODS + "\nTable: foods\n\n| food | fat |\n|---|---|\n| egg | 5 |\n\nTable: foods\n")
    f = only(spec, "NEMO112")
    assert f.span.line == line_of(spec, "Table: foods", 8)
    assert "already defined on line 8" in f.message  # 1-based, for people
    assert spec.tables["foods"].columns == ("food", "cost")  # the first one wins


def test_csv_block_with_a_caption_name_already_used_is_nemo112() -> None:
    spec = parse_spec(FOODS + "\nTable: foods\n\n```csv foods\nfood, fat\negg, 5\n```\n")
    f = only(spec, "NEMO112")
    assert f.span.line == line_of(spec, "```csv foods")
    assert "already defined on line 8" in f.message
    assert spec.tables["foods"].origin == "markdown"


def test_cell_spans_point_at_the_cell_text() -> None:
    spec = parse_spec(FOODS + "\nTable: foods\n")
    milk, price = spec.tables["foods"].rows[1]
    assert (milk.span.line, text_at(spec, milk.span)) == (5, "milk")
    assert text_at(spec, price.span) == "3.5"


def test_escaped_pipe_stays_inside_its_cell() -> None:
    spec = parse_spec("# T\n\n| name | note |\n|---|---|\n| a | x \\| y |\n\nTable: t\n")
    assert spec.findings == ()
    assert spec.tables["t"].rows[0][1].text == "x | y"


@pytest.mark.parametrize("header, asked", [
    pytest.param("cost ($)", "cost", id="unit-in-parentheses"),
    pytest.param("Demand [boats]", "demand", id="unit-in-brackets-and-case"),
    pytest.param("fixed cost", "fixed_cost", id="space-as-underscore"),
])
def test_column_lookup_ignores_case_units_and_spaces(header: str, asked: str) -> None:
    spec = parse_spec(f"# T\n\n| key | {header} |\n|---|---|\n| a | 1 |\n\nTable: t\n")
    assert spec.tables["t"].column_index(asked) == 1


@pytest.mark.parametrize("cell, number", [
    pytest.param("1200", 1200, id="integer"),
    pytest.param("1,200", 1200, id="thousands-comma"),
    pytest.param("1,200,000.5", 1200000.5, id="thousands-and-decimals"),
    pytest.param("1_200", 1200, id="underscore"),
    pytest.param("12.5", 12.5, id="decimal"),
    pytest.param(".5", 0.5, id="leading-dot"),
    pytest.param("$3.50", 3.5, id="dollars"),
    pytest.param("-$2", -2, id="negative-dollars"),
    pytest.param("1e-3", 0.001, id="exponent"),
    pytest.param("-4", -4, id="negative"),
])
def test_number_cells_are_numbers(cell: str, number: float) -> None:
    value = parse_number(cell)
    assert value == number
    assert isinstance(value, int) == isinstance(number, int)


@pytest.mark.parametrize("cell", [
    pytest.param("bread", id="word"),
    pytest.param("12,34", id="comma-not-thousands"),
    pytest.param("3 kg", id="number-with-unit"),
    pytest.param("", id="empty"),
    pytest.param("1.2.3", id="two-dots"),
    pytest.param("$", id="bare-dollar"),
])
def test_text_cells_stay_text(cell: str) -> None:
    assert parse_number(cell) is None


def test_table_values_are_numbers_where_cells_are_numbers_and_text_elsewhere() -> None:
    spec = parse_spec("# T\n\n| item | cost |\n|---|---|\n| 1,200 | $3.50 |\n| bread | 1e-3 |\n\nTable: t\n")
    assert spec.tables["t"].to_json() == {"columns": ["item", "cost"], "rows": [[1200, 3.5], ["bread", 0.001]]}


# --- csv and json blocks ------------------------------------------------------------------------


def test_csv_block_is_a_table_named_by_its_fence() -> None:
    spec = read("""
        # T

        ```csv foods
        food, cost
        bread, 2
        "milk, whole", 3.5
        ```
        """)
    assert spec.findings == ()
    t = spec.tables["foods"]
    assert (t.origin, t.columns) == ("csv", ("food", "cost"))
    assert [[c.value for c in row] for row in t.rows] == [["bread", 2], ["milk, whole", 3.5]]
    assert (t.name_span.line, text_at(spec, t.name_span)) == (2, "foods")
    assert t.rows[1][0].span.line == line_of(spec, '"milk, whole"')


def test_csv_cells_are_spanned_on_their_own_lines() -> None:
    spec = parse_spec("# T\n\n```csv t\nfood,cost\nbread,two\n```\n")
    cell = spec.tables["t"].rows[0][1]
    assert (cell.span.line, text_at(spec, cell.span)) == (4, "two")


def test_ragged_csv_row_is_nemo111_at_its_line() -> None:
    spec = parse_spec("# T\n\n```csv t\nfood,cost\nbread,2\nmilk,3,4\n```\n")
    assert only(spec, "NEMO111").span.line == 5


def test_empty_csv_block_is_nemo113_at_its_name() -> None:
    spec = parse_spec("# T\n\n```csv t\n```\n")
    assert only(spec, "NEMO113").span.line == 2
    assert spec.tables == {}


@pytest.mark.parametrize("payload", [
    pytest.param('[{"food": "bread", "cost": 2}, {"food": "milk", "cost": 3.5}]', id="list-of-rows"),
    pytest.param('{"food": ["bread", "milk"], "cost": [2, 3.5]}', id="object-of-columns"),
])
def test_json_block_is_a_table_in_either_shape(payload: str) -> None:
    spec = parse_spec(f"# T\n\n```json foods\n{payload}\n```\n")
    assert spec.findings == ()
    t = spec.tables["foods"]
    assert (t.origin, t.columns) == ("json", ("food", "cost"))
    assert [[c.value for c in row] for row in t.rows] == [["bread", 2], ["milk", 3.5]]


def test_json_rows_missing_a_key_or_null_leave_the_cell_empty() -> None:
    spec = parse_spec('# T\n\n```json t\n[{"a": 1, "b": null}, {"a": 2}]\n```\n')
    assert [[c.text for c in row] for row in spec.tables["t"].rows] == [["1", ""], ["2", ""]]


def test_malformed_json_is_nemo113_at_the_line_of_the_error() -> None:
    spec = read("""
        # T

        ```json foods
        {"food": ["bread",
                  "milk"],,
         "cost": [2, 3]}
        ```
        """)
    f = only(spec, "NEMO113")
    assert f.span.line == line_of(spec, '"milk"],,')
    assert spec.lines[f.span.line][f.span.col] == ","
    assert spec.tables == {}


@pytest.mark.parametrize("payload", [
    pytest.param("[1, 2]", id="list-of-numbers"),
    pytest.param('{"a": 1}', id="object-of-scalars"),
    pytest.param('"text"', id="string"),
])
def test_json_of_another_shape_is_nemo113(payload: str) -> None:
    spec = parse_spec(f"# T\n\n```json t\n{payload}\n```\n")
    assert codes(spec) == ["NEMO113"]


def test_json_columns_of_different_lengths_is_nemo111() -> None:
    spec = parse_spec('# T\n\n```json t\n{"a": [1, 2], "b": [3]}\n```\n')
    assert codes(spec) == ["NEMO111"]


def test_fence_in_another_language_is_not_a_table() -> None:
    spec = parse_spec("# T\n\n```python costs\nx = 1\n```\n")
    assert spec.tables == {} and spec.findings == ()


# --- empty file, model block, line endings, bytes -----------------------------------------------


@pytest.mark.parametrize("text", [pytest.param("", id="empty"), pytest.param("\n  \n\t\n", id="blank")])
def test_empty_spec_is_nemo101(text: str) -> None:
    spec = parse_spec(text)
    assert codes(spec) == ["NEMO101"]
    assert spec.model is None and spec.tables == {}


def test_model_block_is_found_with_its_first_content_line() -> None:
    spec = read("""
        # T

        Prose.

        ```model
        sets:
          I: [a, b]
        ```
        """)
    assert spec.model is not None
    assert spec.model.first_line == 5
    assert spec.lines[spec.model.first_line] == "sets:"
    assert spec.model.text == "sets:\n  I: [a, b]\n"
    assert (spec.model.span.line, spec.model.span.end_line) == (4, 7)


def test_second_model_block_is_a_nemo133_warning_and_is_ignored() -> None:
    spec = read("""
        # T

        ```model
        sets:
          I: [a]
        ```

        ```model
        sets:
          J: [b]
        ```
        """)
    f = only(spec, "NEMO133")
    assert f.severity == Severity.WARNING
    assert f.span.line == 7
    assert "I: [a]" in spec.model.text


def test_spec_without_model_block_has_none() -> None:
    assert parse_spec(FOODS).model is None


def test_crlf_line_endings_read_exactly_like_lf() -> None:
    lf = dedent("""\
        ---
        samples: x
        ---
        # T

        One rule. Another rule
        over two lines.

        | food | cost |
        |---|---|
        | bread | two |

        Table: foods

        ```model
        sets:
          F: foods.food
        ```
        """)
    a, b = parse_spec(lf), parse_spec(lf.replace("\n", "\r\n"))
    assert b.lines == a.lines
    assert b.findings == a.findings and codes(b) == ["NEMO104"]
    assert b.sentences == a.sentences
    assert b.tables == a.tables
    assert b.model == a.model


def test_non_utf8_bytes_are_nemo100_at_their_line_and_column() -> None:
    text, problems = decode("# T\n\nCaf\xe9 au lait.\n".encode("latin-1"))
    assert text is None
    (f,) = problems
    assert f.code == "NEMO100"
    assert (f.span.line, f.span.col) == (2, 3)
    assert "line 3, column 4" in f.message  # 1-based, for people
    assert "0xe9" in f.message


def test_utf8_bom_is_dropped() -> None:
    text, problems = decode("\ufeff# T\n".encode())
    assert (text, problems) == ("# T\n", [])


def test_missing_file_or_a_directory_cannot_be_read(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.opt.md", tmp_path):
        text, problems = read_text(path)
        assert text is None and [f.code for f in problems] == ["NEMO100"]


def test_spec_larger_than_the_limit_is_nemo100(tmp_path: Path) -> None:
    path = tmp_path / "big.opt.md"
    path.write_text("# T\n" + "x" * 100)
    text, problems = read_text(path, max_bytes=50)
    assert text is None and "specs are limited" in problems[0].message
    assert read_text(path)[0] is not None


@pytest.mark.parametrize("text", [
    pytest.param("```model\nsets: [\n", id="unclosed-model-fence"),
    pytest.param("|\n|-|\n", id="lone-pipes"),
    pytest.param("Table:\n", id="empty-caption"),
    pytest.param("---\n", id="lone-front-matter-fence"),
    pytest.param("```csv t\n\"unclosed\n```\n", id="csv-unclosed-quote"),
    pytest.param("# \n\n#\n", id="empty-headings"),
])
def test_reading_never_raises_on_odd_input(text: str) -> None:
    spec = parse_spec(text)
    assert isinstance(spec.findings, tuple)
