/**
 * The solution view's HTML: the last run's summary, each variable's values as a table and a bar
 * chart, the constraints' slack, the objective over this session's runs, the findings. Pure
 * module: charts are SVG drawn here (no library, no network); the only script is a small inline
 * one (nonce) that toggles zero rows, picks a variable and posts button clicks to the extension.
 */

import { Bar, formatNumber, HistoryPoint, Level, SolutionModel, VariableModel } from './report';

export interface HtmlOptions {
  /** Fresh per render; allows the one <style> and <script> element. */
  nonce: string;
  /** `webview.cspSource` (for completeness; the page loads no resources). */
  cspSource: string;
  /** Initial state of "show zero values". */
  nonzeroOnly: boolean;
  /** Table rows per variable before "... more rows" (large models). */
  maxTableRows?: number;
}

export function escapeHtml(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function contentSecurityPolicy(nonce: string, cspSource: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Rough text width in px for the chart's layout (monospace-ish, 12 px font). */
function textWidth(text: string): number {
  return text.length * 7;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A horizontal bar chart of `bars` (negative values extend left of the zero line). */
export function barChartSvg(bars: Bar[], title: string, width = 640): string {
  if (bars.length === 0) {
    return '';
  }
  const rowH = 22;
  const barH = 14;
  const top = 6;
  const labels = bars.map((b) => truncate(b.label, 32));
  const labelW = Math.min(240, Math.max(48, ...labels.map(textWidth))) + 8;
  const values = bars.map((b) => formatNumber(b.value));
  const valueW = Math.max(...values.map(textWidth)) + 8;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const min = Math.min(0, ...bars.map((b) => b.value));
  const span = max - min || 1;
  const plotX = labelW;
  const plotW = Math.max(60, width - labelW - valueW * (min < 0 ? 2 : 1));
  const x0 = plotX + (min < 0 ? valueW : 0) + ((0 - min) / span) * plotW;
  const height = top * 2 + rowH * bars.length;
  const out: string[] = [
    `<svg class="chart bars" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}" preserveAspectRatio="xMinYMin meet">`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const w = (Math.abs(b.value) / span) * plotW;
    const neg = b.value < 0;
    const x = neg ? x0 - w : x0;
    const tx = neg ? x - 4 : x + w + 4;
    out.push(
      `<g class="bar"><title>${escapeHtml(`${b.label}: ${values[i]}`)}</title>` +
        `<text class="label" x="${round(labelW - 8)}" y="${round(y + barH - 2)}" text-anchor="end">${escapeHtml(labels[i])}</text>` +
        `<rect class="${neg ? 'neg' : 'pos'}" x="${round(x)}" y="${y}" width="${round(Math.max(w, 1))}" height="${barH}" rx="2"></rect>` +
        `<text class="value" x="${round(tx)}" y="${round(y + barH - 2)}" text-anchor="${neg ? 'end' : 'start'}">${escapeHtml(values[i])}</text></g>`,
    );
  });
  out.push(`<line class="axis" x1="${round(x0)}" y1="0" x2="${round(x0)}" y2="${height}"></line>`);
  out.push('</svg>');
  return out.join('');
}

/** The objective over runs: a line through the runs that have an objective, dots colored by outcome. */
export function historySvg(points: HistoryPoint[], width = 640, height = 180): string {
  const withObj = points.filter((p) => typeof p.objective === 'number');
  if (withObj.length === 0) {
    return '';
  }
  const left = 72;
  const right = 16;
  const top = 12;
  const bottom = 28;
  const vals = withObj.map((p) => p.objective as number);
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const firstRun = points[0].run;
  const lastRun = points[points.length - 1].run;
  const runs = Math.max(1, lastRun - firstRun);
  const px = (run: number) => (points.length === 1 ? left + (width - left - right) / 2 : left + ((run - firstRun) / runs) * (width - left - right));
  const py = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  const out: string[] = [
    `<svg class="chart history" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="objective over runs" preserveAspectRatio="xMinYMin meet">`,
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}"></line>`,
    `<line class="axis" x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}"></line>`,
    `<text class="tick" x="${left - 6}" y="${round(py(hi) + 4)}" text-anchor="end">${escapeHtml(formatNumber(hi))}</text>`,
    `<text class="tick" x="${left - 6}" y="${round(py(lo) + 4)}" text-anchor="end">${escapeHtml(formatNumber(lo))}</text>`,
    `<text class="tick" x="${round(px(firstRun))}" y="${height - 8}" text-anchor="middle">run ${firstRun}</text>`,
  ];
  if (lastRun !== firstRun) {
    out.push(`<text class="tick" x="${round(px(lastRun))}" y="${height - 8}" text-anchor="middle">run ${lastRun}</text>`);
  }
  if (withObj.length > 1) {
    const d = withObj.map((p, i) => `${i ? 'L' : 'M'}${round(px(p.run))},${round(py(p.objective as number))}`).join(' ');
    out.push(`<path class="line" d="${d}"></path>`);
  }
  for (const p of withObj) {
    out.push(
      `<circle class="dot ${p.level}" cx="${round(px(p.run))}" cy="${round(py(p.objective as number))}" r="4">` +
        `<title>${escapeHtml(`run ${p.run}: ${formatNumber(p.objective)} (${p.outcome.replace(/_/g, ' ')})`)}</title></circle>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

function variableSection(v: VariableModel, maxRows: number): string {
  const isZero = (value: number | null) => value === null || Math.abs(value) <= 1e-9;
  const head =
    v.arity === 0
      ? '<th>value</th>'
      : `${Array.from({ length: v.arity }, (_, i) => `<th>${v.arity === 1 ? 'index' : `index ${i + 1}`}</th>`).join('')}<th class="num">value</th>`;
  const rows = v.rows.slice(0, maxRows).map((r) => {
    const cells = r.index.map((c) => `<td>${escapeHtml(c)}</td>`).join('');
    const pad = v.arity - r.index.length > 0 ? '<td></td>'.repeat(v.arity - r.index.length) : '';
    return `<tr class="${isZero(r.value) ? 'zero' : ''}">${cells}${pad}<td class="num">${escapeHtml(r.value === null ? '—' : formatNumber(r.value))}</td></tr>`;
  });
  const more = v.rows.length > maxRows ? `<p class="note">${v.rows.length - maxRows} more rows not shown.</p>` : '';
  const chart =
    v.bars.length > 0
      ? barChartSvg(v.bars, `values of ${v.name}`) +
        (v.barsOmitted ? `<p class="note">${v.barsOmitted} more nonzero values not drawn (nemo.solution.maxBars).</p>` : '')
      : '<p class="note">All values are zero.</p>';
  const count = v.arity === 0 ? '' : ` <span class="muted">${v.nonzero} nonzero of ${v.rows.length}</span>`;
  return (
    `<section class="variable" data-variable="${escapeHtml(v.name)}"><h3>${escapeHtml(v.name)}${count}</h3>` +
    `${chart}<table class="values"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>${more}</section>`
  );
}

const LEVEL_CLASS: Record<Level, string> = { ok: 'ok', warning: 'warning', error: 'error', running: 'running', none: 'none' };

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.4em; margin: 16px 0 4px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h2 { font-size: 1.1em; margin: 22px 0 8px; border-bottom: 1px solid var(--vscode-panel-border, #8884); padding-bottom: 4px; }
h3 { font-size: 1em; margin: 16px 0 6px; font-family: var(--vscode-editor-font-family); }
.badge { font-size: 0.7em; padding: 2px 8px; border-radius: 10px; border: 1px solid currentColor; }
.badge.ok { color: var(--vscode-charts-green, #388a34); }
.badge.warning { color: var(--vscode-charts-yellow, #bf8803); }
.badge.error { color: var(--vscode-charts-red, #e51400); }
.muted, .note { color: var(--vscode-descriptionForeground); font-weight: normal; font-size: 0.9em; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.summary dt { color: var(--vscode-descriptionForeground); }
dl.summary dd { margin: 0; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
button { background: var(--vscode-button-secondaryBackground, var(--vscode-button-background)); color: var(--vscode-button-secondaryForeground, var(--vscode-button-foreground)); border: none; padding: 4px 10px; cursor: pointer; border-radius: 2px; }
button:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-button-hoverBackground)); }
button.primary { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
.controls { display: flex; gap: 16px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border, transparent); }
table { border-collapse: collapse; margin: 6px 0; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
th, td { text-align: left; padding: 2px 14px 2px 0; border-bottom: 1px solid var(--vscode-panel-border, #8882); }
th { color: var(--vscode-descriptionForeground); font-weight: normal; }
td.num, th.num { text-align: right; }
tr.zero { display: none; }
body.show-zeros tr.zero { display: table-row; color: var(--vscode-descriptionForeground); }
svg.chart { max-width: 760px; display: block; margin: 4px 0; overflow: visible; }
svg text { fill: var(--vscode-foreground); font-size: 12px; font-family: var(--vscode-editor-font-family); }
svg text.value, svg text.tick { fill: var(--vscode-descriptionForeground); }
svg rect.pos { fill: var(--vscode-charts-blue, #1a85ff); }
svg rect.neg { fill: var(--vscode-charts-orange, #d18616); }
svg line.axis { stroke: var(--vscode-descriptionForeground); stroke-width: 1; opacity: 0.6; }
svg path.line { fill: none; stroke: var(--vscode-charts-blue, #1a85ff); stroke-width: 1.5; }
svg circle.dot { fill: var(--vscode-charts-blue, #1a85ff); }
svg circle.dot.ok { fill: var(--vscode-charts-green, #388a34); }
svg circle.dot.warning { fill: var(--vscode-charts-yellow, #bf8803); }
svg circle.dot.error { fill: var(--vscode-charts-red, #e51400); }
.slack-violated { color: var(--vscode-charts-red, #e51400); }
.slack-tight { color: var(--vscode-charts-yellow, #bf8803); }
ul.findings { padding-left: 18px; }
.sev-error { color: var(--vscode-charts-red, #e51400); }
.sev-warning { color: var(--vscode-charts-yellow, #bf8803); }
`;

const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  const state = vscode.getState() || {};
  const zeros = document.getElementById('zeros');
  const pick = document.getElementById('variable');
  if (zeros && typeof state.zeros === 'boolean') { zeros.checked = state.zeros; }
  if (pick && state.variable && Array.from(pick.options).some(function (o) { return o.value === state.variable; })) { pick.value = state.variable; }
  function apply() {
    document.body.classList.toggle('show-zeros', !!(zeros && zeros.checked));
    const v = pick ? pick.value : '';
    document.querySelectorAll('[data-variable]').forEach(function (el) { el.hidden = v !== '' && el.getAttribute('data-variable') !== v; });
    vscode.setState({ zeros: !!(zeros && zeros.checked), variable: v });
  }
  if (zeros) { zeros.addEventListener('change', apply); }
  if (pick) { pick.addEventListener('change', apply); }
  document.querySelectorAll('button[data-command]').forEach(function (b) {
    b.addEventListener('click', function () { vscode.postMessage({ command: b.getAttribute('data-command') }); });
  });
  apply();
})();
`;

/** Buttons of the view; each posts `{ command }` to the extension. */
export const VIEW_ACTIONS: readonly { command: string; label: string; primary?: boolean }[] = [
  { command: 'solve', label: 'Solve again', primary: true },
  { command: 'openOptimizer', label: 'Open optimizer' },
  { command: 'openSimulator', label: 'Open simulator' },
  { command: 'openLog', label: 'Open log' },
  { command: 'openSpec', label: 'Go to spec' },
];

function page(title: string, body: string, opts: HtmlOptions): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(opts.nonce, opts.cspSource)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    `<title>${escapeHtml(title)}</title>`,
    `<style nonce="${opts.nonce}">${STYLE}</style>`,
    '</head>',
    `<body class="${opts.nonzeroOnly ? '' : 'show-zeros'}">`,
    body,
    `<script nonce="${opts.nonce}">${SCRIPT}</script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

function actions(): string {
  return `<div class="actions">${VIEW_ACTIONS.map(
    (a) => `<button type="button" data-command="${a.command}"${a.primary ? ' class="primary"' : ''}>${escapeHtml(a.label)}</button>`,
  ).join('')}</div>`;
}

/** The page for a spec that has not run yet (or whose server is not running). */
export function emptyHtml(specName: string, message: string, opts: HtmlOptions): string {
  return page(
    `Solution: ${specName}`,
    `<h1>${escapeHtml(specName)}</h1><p>${escapeHtml(message)}</p>${actions()}`,
    opts,
  );
}

export function solutionHtml(model: SolutionModel, history: HistoryPoint[], opts: HtmlOptions): string {
  const maxRows = opts.maxTableRows ?? 2000;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(model.title)} <span class="badge ${LEVEL_CLASS[model.level]}">${escapeHtml(model.outcome)}</span></h1>`);
  parts.push(actions());
  parts.push(
    `<dl class="summary">${model.summary.map((s) => `<dt>${escapeHtml(s.label)}</dt><dd>${escapeHtml(s.value)}</dd>`).join('')}</dl>`,
  );

  parts.push('<h2>Decisions</h2>');
  if (model.variables.length === 0) {
    parts.push('<p class="note">This run has no decision values (the optimizer did not return a solution).</p>');
  } else {
    const options = ['<option value="">all variables</option>', ...model.variables.map((v) => `<option value="${escapeHtml(v.name)}">${escapeHtml(v.name)}</option>`)];
    parts.push(
      `<div class="controls"><label>variable <select id="variable">${options.join('')}</select></label>` +
        `<label><input type="checkbox" id="zeros"${opts.nonzeroOnly ? '' : ' checked'}> show zero values</label></div>`,
    );
    for (const v of model.variables) {
      parts.push(variableSection(v, maxRows));
    }
  }

  if (model.slack.length) {
    parts.push('<h2>Constraints</h2>');
    parts.push(
      `<table class="slack"><thead><tr><th>constraint</th><th class="num">smallest slack</th><th></th></tr></thead><tbody>${model.slack
        .map(
          (s) =>
            `<tr class="slack-${s.state}"><td>${escapeHtml(s.name)}</td><td class="num">${escapeHtml(formatNumber(s.slack))}</td>` +
            `<td>${s.state === 'tight' ? 'tight (binding)' : s.state === 'violated' ? 'violated' : ''}</td></tr>`,
        )
        .join('')}</tbody></table>`,
    );
  }

  parts.push('<h2>Objective over runs <span class="muted">(this session)</span></h2>');
  const chart = historySvg(history);
  parts.push(chart || '<p class="note">No run with an objective yet.</p>');
  if (history.length) {
    const recent = history.slice(-10).reverse();
    parts.push(
      `<table class="history"><thead><tr><th>run</th><th>time</th><th class="num">objective</th><th>outcome</th></tr></thead><tbody>${recent
        .map(
          (p) =>
            `<tr><td>${p.run}</td><td>${escapeHtml(new Date(p.time).toLocaleTimeString())}</td>` +
            `<td class="num">${escapeHtml(p.objective === null ? '—' : formatNumber(p.objective))}</td><td>${escapeHtml(p.outcome.replace(/_/g, ' '))}</td></tr>`,
        )
        .join('')}</tbody></table>`,
    );
  }

  if (model.findings.length) {
    parts.push('<h2>Findings</h2>');
    parts.push(
      `<ul class="findings">${model.findings
        .map(
          (f) =>
            `<li><span class="sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity)}</span> ${escapeHtml(f.code)}` +
            `${f.line ? ` <span class="muted">line ${f.line}</span>` : ''}: ${escapeHtml(f.message)}</li>`,
        )
        .join('')}</ul>`,
    );
  }
  return page(`Solution: ${model.title}`, parts.join('\n'), opts);
}
