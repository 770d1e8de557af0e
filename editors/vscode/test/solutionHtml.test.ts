/** The solution view's page: strict CSP, no network, escaped text, tables and SVG charts. */

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import * as vm from 'node:vm';
import { HistoryPoint, Report, solutionModel } from '../src/report';
import { barChartSvg, contentSecurityPolicy, emptyHtml, historySvg, solutionHtml } from '../src/solutionHtml';
import { DIET, NOT_RUN, REJECTED, TRANSPORTATION } from './fixtures';

const OPTS = { nonce: 'bm9uY2Vub25jZQ==', cspSource: 'vscode-webview://abc', nonzeroOnly: true };

const history: HistoryPoint[] = [
  { run: 1, time: 0, objective: 120, outcome: 'rejected', level: 'error' },
  { run: 2, time: 1, objective: null, outcome: 'not_run', level: 'warning' },
  { run: 3, time: 2, objective: 97, outcome: 'validated', level: 'ok' },
];

function checkPage(html: string) {
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(csp, 'no CSP meta tag');
  assert.equal(csp[1], contentSecurityPolicy(OPTS.nonce, OPTS.cspSource));
  assert.match(csp[1], /default-src 'none'/);
  assert.match(csp[1], new RegExp(`script-src 'nonce-${OPTS.nonce}'`));
  assert.doesNotMatch(csp[1], /unsafe-(inline|eval)/);
  // No network: no URL at all, and no element that loads anything.
  assert.doesNotMatch(html, /https?:\/\//);
  const tags = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
  for (const tag of tags) {
    assert.doesNotMatch(tag, /^<(link|img|iframe|object|embed|frame|audio|video|source)\b/, tag);
    assert.doesNotMatch(tag, /\s(src|href|srcset|action)=/, tag);
    // Everything inline is allowed by the nonce: no style attributes, no inline handlers.
    assert.doesNotMatch(tag, /\sstyle=/, tag);
    assert.doesNotMatch(tag, /\son[a-z]+=/, tag);
  }
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0][1], ` nonce="${OPTS.nonce}"`);
  new vm.Script(scripts[0][2]); // it parses
  for (const m of html.matchAll(/<style([^>]*)>/g)) {
    assert.equal(m[1], ` nonce="${OPTS.nonce}"`);
  }
  return scripts[0][2];
}

test('the page has a strict CSP, one nonce script, and loads nothing', () => {
  checkPage(solutionHtml(solutionModel(TRANSPORTATION), history, OPTS));
  checkPage(solutionHtml(solutionModel(NOT_RUN), [], OPTS));
  checkPage(emptyHtml('diet.opt.md', 'No run yet', OPTS));
});

test('decisions as a table (zero rows hidden at first) and a bar chart', () => {
  const html = solutionHtml(solutionModel(TRANSPORTATION), history, OPTS);
  assert.match(html, /<h1>transportation\.opt\.md <span class="badge ok">validated<\/span><\/h1>/);
  assert.match(html, /<section class="variable" data-variable="ship"><h3>ship <span class="muted">3 nonzero of 6<\/span><\/h3>/);
  const table = /<table class="values">([\s\S]*?)<\/table>/.exec(html)![1];
  assert.match(table, /<th>index 1<\/th><th>index 2<\/th><th class="num">value<\/th>/);
  assert.equal((table.match(/<tr class="zero">/g) || []).length, 3);
  assert.match(table, /<tr class=""><td>seattle<\/td><td>chicago<\/td><td class="num">300<\/td><\/tr>/);
  const chart = /<svg class="chart bars"[\s\S]*?<\/svg>/.exec(html)![0];
  assert.equal((chart.match(/<rect class="pos"/g) || []).length, 3);
  assert.match(chart, /<title>san-diego, new-york: 325<\/title>/);
  assert.doesNotMatch(html, /<body class="show-zeros">/);
  assert.match(solutionHtml(solutionModel(TRANSPORTATION), [], { ...OPTS, nonzeroOnly: false }), /<body class="show-zeros">/);
});

test('bars are proportional; negative values go left of the zero line', () => {
  const svg = barChartSvg(
    [
      { label: 'a', value: 10 },
      { label: 'b', value: 5 },
      { label: 'c', value: -5 },
    ],
    'x',
  );
  const rects = [...svg.matchAll(/<rect class="(pos|neg)" x="([\d.]+)" y="\d+" width="([\d.]+)"/g)].map((m) => ({ kind: m[1], x: Number(m[2]), w: Number(m[3]) }));
  assert.equal(rects.length, 3);
  assert.ok(Math.abs(rects[0].w - 2 * rects[1].w) < 0.5, JSON.stringify(rects));
  assert.equal(rects[2].kind, 'neg');
  assert.ok(Math.abs(rects[2].x + rects[2].w - rects[0].x) < 0.5, 'the negative bar ends at the zero line');
  assert.equal(barChartSvg([], 'x'), '');
});

test('the objective history: one dot per run with an objective, a line between them', () => {
  const svg = historySvg(history);
  assert.equal((svg.match(/<circle /g) || []).length, 2);
  assert.match(svg, /<circle class="dot error"[^>]*><title>run 1: 120 \(rejected\)<\/title>/);
  assert.match(svg, /<circle class="dot ok"[^>]*><title>run 3: 97 \(validated\)<\/title>/);
  assert.match(svg, /<path class="line" d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
  assert.equal(historySvg([]), '');
  assert.equal((historySvg([history[2]]).match(/<circle /g) || []).length, 1);
  const html = solutionHtml(solutionModel(DIET), history, OPTS);
  assert.match(html, /<table class="history">[\s\S]*<td>3<\/td>[\s\S]*<td class="num">97<\/td><td>validated<\/td>/);
});

test('names from the spec are escaped (a table value is user text)', () => {
  const evil: Report = {
    ...DIET,
    spec: '/w/<b>x</b>.opt.md',
    solution: { ...DIET.solution, decisions: { 'x<script>': [['<img src=x onerror=alert(1)>', 1]] } },
    findings: [{ code: 'NEMO1', severity: 'error', message: '"quoted" & <tag>' }],
  };
  const html = solutionHtml(solutionModel(evil), [], OPTS);
  checkPage(html);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /x&lt;script&gt;/);
  assert.match(html, /&quot;quoted&quot; &amp; &lt;tag&gt;/);
});

test('slack and findings sections', () => {
  const html = solutionHtml(solutionModel(REJECTED), [], OPTS);
  assert.match(html, /<tr class="slack-violated"><td>cap<\/td><td class="num">-2<\/td><td>violated<\/td><\/tr>/);
  assert.match(html, /<li><span class="sev-error">error<\/span> NEMO401 <span class="muted">line 41<\/span>: the simulator finds `cap` violated by 2<\/li>/);
  assert.match(html, /<svg class="chart bars"[\s\S]*<rect class="neg"/);
});

test("the page's script wires the controls and posts button clicks", () => {
  const html = solutionHtml(solutionModel(TRANSPORTATION), history, OPTS);
  const script = checkPage(html);
  // Run it against a minimal DOM: the checkbox and the buttons must be found and answered.
  const posted: unknown[] = [];
  const listeners: Record<string, () => void> = {};
  const classes = new Set<string>();
  const el = (id: string) => ({ id, checked: false, value: '', options: [], addEventListener: (_: string, fn: () => void) => (listeners[id] = fn) });
  const zeros = el('zeros');
  const buttons = ['solve', 'openOptimizer'].map((c) => ({ getAttribute: () => c, addEventListener: (_: string, fn: () => void) => (listeners[c] = fn) }));
  const sections = [{ getAttribute: () => 'ship', hidden: false }];
  const document = {
    getElementById: (id: string) => (id === 'zeros' ? zeros : id === 'variable' ? el('variable') : null),
    querySelectorAll: (sel: string) => (sel.startsWith('button') ? buttons : sections),
    body: { classList: { toggle: (c: string, on: boolean) => (on ? classes.add(c) : classes.delete(c)) } },
  };
  let state: unknown;
  const acquireVsCodeApi = () => ({ postMessage: (m: unknown) => posted.push(m), getState: () => state, setState: (s: unknown) => (state = s) });
  vm.runInNewContext(script, { document, acquireVsCodeApi, Array });
  listeners.solve();
  assert.deepEqual(JSON.parse(JSON.stringify(posted)), [{ command: 'solve' }]);
  zeros.checked = true;
  listeners.zeros();
  assert.ok(classes.has('show-zeros'));
  assert.deepEqual(JSON.parse(JSON.stringify(state)), { zeros: true, variable: '' });
});
