"""Fuzzing the spec reader through `analyze`: any text ends in findings, never in an exception.

Three sources of input: arbitrary text, Markdown assembled from the fragments a spec is made of
(headings, tables with random cells and pipes, captions, csv/json fences, model blocks, front
matter), and mutations of the real examples (lines deleted, duplicated, swapped, characters
inserted, the text truncated). Each input must give an Analysis whose findings carry known codes and
spans inside the text. Crashes found here are kept as plain tests in test_found_crashes.py.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from .fuzz_support import analyze_soundly, cases, markdown_specs, mutated_examples

_ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("|-:`#*>[](){}.,;'\"\\\n\r\t Table:model csv json 0123456789e+-$_"))),
    st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),
)


@cases(5000)
@given(_ANY_TEXT)
def test_random_text_ends_in_findings(text: str) -> None:
    analyze_soundly(text)


@cases(2000)
@given(markdown_specs())
def test_random_markdown_from_spec_fragments_ends_in_findings(text: str) -> None:
    analyze_soundly(text)


@cases(2500)
@given(mutated_examples())
def test_mutated_examples_end_in_findings(text: str) -> None:
    analyze_soundly(text)
