"""`summary.md` and a self-contained `report.html` (inline SVG charts, no network resources).

Everything here is computed from the stored result records by scoring.py: a report can be
regenerated at any time, offline, and two runs compared problem by problem.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write
from . import scoring
from .scoring import CONVENTIONS, Comparison, Summary


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def summary_table(summaries: Mapping[str, Summary]) -> str:
    """Accuracy under each convention per benchmark, plus executability, validation, repairs, time, cost."""
    head = (["benchmark", "n", "scored"] + [c.label for c in CONVENTIONS]
            + ["executed", "validated", "validated+correct", "repaired (rounds)", "s/problem mean (median)",
               "cost/problem"])
    rows = []
    for name, s in summaries.items():
        rows.append([f"**{name}**" if name == "overall" else name, str(s.problems), str(s.scored)]
                    + [f"{_pct(s.accuracy(c.name))} ({s.correct[c.name]})" for c in CONVENTIONS]
                    + [_pct(s.rate(s.executed)), _pct(s.rate(s.validated)), str(s.validated_correct),
                       f"{s.repaired} ({s.repair_rounds})",
                       f"{_num(s.seconds.get('mean'))} ({_num(s.seconds.get('median'))})",
                       _money(s.cost.get("mean"))])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def conventions_text() -> str:
    return "\n".join(f"- **{c.label}** (`{c.name}`): {c.doc}" for c in CONVENTIONS)


SCORING_NOTE = ("Accuracy compares each run's final answer (the optimizer's objective when the solver proved "
                "optimality, or the status it proved) with the reference. References that say *infeasible* "
                "(or unbounded) are correct only when the run proved that status; references with no usable "
                "answer are *unscored* (n - scored) and left out of the denominator. *validated* counts runs "
                "whose simulator agreed with the optimizer; *validated+correct* those that were also right "
                f"under {scoring.DEFAULT.label}.")


def comparison_text(cmp: Comparison, a: str, b: str) -> str:
    def ids(items: Sequence[str]) -> str:
        return ", ".join(f"`{i}`" for i in items) if items else "none"

    return "\n".join([
        f"Under {scoring.convention(cmp.convention).label}, from `{a}` (A) to `{b}` (B):", "",
        f"- fixed (wrong in A, correct in B): {len(cmp.fixed)}: {ids(cmp.fixed)}",
        f"- broken (correct in A, wrong in B): {len(cmp.broken)}: {ids(cmp.broken)}",
        f"- correct in both: {len(cmp.both_correct)}; wrong in both: {len(cmp.both_wrong)}",
        f"- only in A: {len(cmp.only_a)}; only in B: {len(cmp.only_b)}"])


def markdown(records: list[dict[str, Any]], title: str, other: list[dict[str, Any]] | None = None,
             names: tuple[str, str] = ("A", "B")) -> str:
    parts = [f"# {title}", "", summary_table(scoring.by_benchmark(records)), "", "## Conventions", "",
             conventions_text(), "", SCORING_NOTE]
    if other is not None:
        parts += ["", f"## Comparison with `{names[1]}`", "", summary_table(scoring.by_benchmark(other)), ""]
        parts.append(comparison_text(scoring.compare(records, other), *names))
    wrong = [r for r in records if scoring.verdict(r) == "wrong"]
    if wrong:
        parts += ["", f"## Wrong under {scoring.DEFAULT.label}", "", "| problem | outcome | status | objective | "
                  "expected |", "|---|---|---|---:|---:|"]
        for r in sorted(wrong, key=lambda r: str(r["id"])):
            exp = r.get("expected") or {}
            parts.append(f"| {r['id']} | {r.get('outcome')} | {r.get('status')} | {r.get('objective')} | "
                         f"{exp.get('answer') if exp.get('answer') is not None else exp.get('status')} |")
    return "\n".join(parts) + "\n"


# --- SVG charts -------------------------------------------------------------------------------

_COLORS = ("#1b6ca8", "#3d9970", "#e6a23c", "#b03a2e", "#7d3c98")


def bar_chart(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str,
              unit: str = "%", maximum: float | None = 1.0) -> str:
    """Grouped vertical bars: one group per label, one bar per series; values 0..maximum."""
    width, height, left, bottom, top = max(360, 70 * len(groups) + 80), 260, 46, 70, 28
    plot_h = height - bottom - top
    values = [v for _, vs in series for v in vs if v is not None]
    peak = maximum if maximum is not None else (max(values) if values else 1.0) or 1.0
    group_w = (width - left - 10) / max(1, len(groups))
    bar_w = max(3.0, (group_w - 10) / max(1, len(series)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>',
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    for k in range(5):
        y = top + plot_h * (1 - k / 4)
        label = f"{peak * k / 4:.0%}" if unit == "%" else f"{peak * k / 4:.3g}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
    for g, name in enumerate(groups):
        x0 = left + g * group_w + 5
        for s, (label, vs) in enumerate(series):
            v = vs[g]
            if v is None:
                continue
            h = plot_h * min(1.0, v / peak) if peak else 0
            out.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{_COLORS[s % len(_COLORS)]}"><title>{html.escape(name)}, '
                       f'{html.escape(label)}: {v:.1%}</title></rect>' if unit == "%" else
                       f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{_COLORS[s % len(_COLORS)]}"><title>{html.escape(name)}: '
                       f'{v:g}</title></rect>')
        out.append(f'<text x="{x0 + group_w / 2 - 5:.1f}" y="{top + plot_h + 14}" font-size="10" '
                   f'text-anchor="end" transform="rotate(-30 {x0 + group_w / 2 - 5:.1f} {top + plot_h + 14})">'
                   f'{html.escape(name)}</text>')
    for s, (label, _) in enumerate(series):
        x = left + s * 110
        out.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{_COLORS[s % len(_COLORS)]}"/>'
                   f'<text x="{x + 14}" y="{height - 5}" font-size="10">{html.escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(values: Sequence[float], title: str, unit: str, bins: int = 12) -> str:
    """Counts of `values` in equal-width bins, as bars."""
    if not values:
        return f"<p><em>{html.escape(title)}: nothing reported.</em></p>"
    lo, hi = min(values), max(values)
    if math.isclose(lo, hi):
        hi = lo + (abs(lo) or 1.0)
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    labels = [f"{lo + i * step:.3g}-{lo + (i + 1) * step:.3g} {unit}" for i in range(bins)]
    return bar_chart(labels, [("problems", [float(c) for c in counts])], title, unit="count", maximum=None)


def html_report(records: list[dict[str, Any]], title: str, other: list[dict[str, Any]] | None = None,
                names: tuple[str, str] = ("A", "B")) -> str:
    summaries = scoring.by_benchmark(records)
    groups = list(summaries)
    acc = bar_chart(groups, [(c.label, [summaries[g].accuracy(c.name) for g in groups]) for c in CONVENTIONS],
                    "Accuracy per benchmark, by convention")
    seconds = [float(r["seconds"]) for r in records if isinstance(r.get("seconds"), (int, float))]
    costs = [c for c in (scoring.cost_of(r) for r in records) if c is not None]
    body = [f"<h1>{html.escape(title)}</h1>", _html_table(summary_table(summaries)), acc,
            histogram(seconds, "Wall time per problem", "s"), histogram(costs, "Reported cost per problem", "$"),
            "<h2>Conventions</h2><ul>" + "".join(f"<li><b>{html.escape(c.label)}</b> (<code>{c.name}</code>): "
                                                 f"{html.escape(c.doc)}</li>" for c in CONVENTIONS) + "</ul>",
            f"<p>{html.escape(SCORING_NOTE.replace('*', ''))}</p>"]
    if other is not None:
        cmp = scoring.compare(records, other)
        so = scoring.by_benchmark(other)
        both = [g for g in groups if g in so]
        body += [f"<h2>Comparison with {html.escape(names[1])}</h2>", _html_table(summary_table(so)),
                 bar_chart(both, [(names[0], [summaries[g].accuracy() for g in both]),
                                  (names[1], [so[g].accuracy() for g in both])],
                           f"Accuracy ({scoring.DEFAULT.label}): {names[0]} vs {names[1]}"),
                 "<pre>" + html.escape(comparison_text(cmp, *names)) + "</pre>"]
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
             "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,"
             "th:first-child{text-align:left}svg{display:block;margin:1em 0}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _html_table(md: str) -> str:
    lines = [line.strip().strip("|").split("|") for line in md.splitlines()]
    head, rows = lines[0], lines[2:]

    def cell(text: str, tag: str) -> str:
        text = text.strip()
        bold = text.startswith("**")
        inner = html.escape(text.strip("*"))
        return f"<{tag}>{'<b>' + inner + '</b>' if bold else inner}</{tag}>"

    return ("<table><thead><tr>" + "".join(cell(h, "th") for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(cell(c, "td") for c in r) + "</tr>" for r in rows) + "</tbody></table>")


def write_report(a: Any, out: Path, compare: Any | None = None) -> list[Path]:
    """Write summary.md and report.html for the run in store `a` (compared with `compare`) into `out`."""
    records = a.records()
    other = compare.records() if compare is not None else None
    names = (a.root.name, compare.root.name if compare is not None else "B")
    if names[0] == names[1]:
        names = (str(a.root), str(compare.root))
    title = f"nemo bench: {a.root.name}" + (f" vs {compare.root.name}" if compare is not None else "")
    md, page = out / "summary.md", out / "report.html"
    atomic_write(md, markdown(records, title, other, names))
    atomic_write(page, html_report(records, title, other, names))
    return [md, page]
