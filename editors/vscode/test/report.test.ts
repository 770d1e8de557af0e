/** Report -> status bar, table and chart model, history. */

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asReport,
  formatNumber,
  ReportStore,
  solutionModel,
  statusFromLensTitle,
  statusFromReport,
  statusRunning,
  variableRows,
} from '../src/report';
import { DIET, NOT_RUN, REJECTED, TRANSPORTATION } from './fixtures';

test("formatNumber prints like the server's lenses (integers plainly, else %.6g)", () => {
  const cases: [number, string][] = [
    [97, '97'],
    [97.0000000001, '97'],
    [-0.0, '0'],
    [153.675, '153.675'],
    [1 / 3, '0.333333'],
    [1234567.5, '1.23457e+06'],
    [0.00001234, '1.234e-05'],
    [-2.5, '-2.5'],
    [78450, '78450'],
  ];
  for (const [v, s] of cases) {
    assert.equal(formatNumber(v), s, String(v));
  }
  assert.equal(formatNumber(null), '');
});

test('asReport accepts a report object and nothing else', () => {
  assert.equal(asReport(null), null);
  assert.equal(asReport([]), null);
  assert.equal(asReport({ started: true }), null);
  assert.equal(asReport(DIET), DIET);
});

test('status bar text from a report', () => {
  assert.deepEqual(statusFromReport(DIET), { text: '$(pass) 97 · validated', summary: 'optimal · objective 97 · validated · 0.8 s', level: 'ok' });
  assert.equal(statusFromReport(REJECTED).text, '$(error) -12.5 · rejected');
  assert.equal(statusFromReport(REJECTED).level, 'error');
  assert.deepEqual(statusFromReport(NOT_RUN), { text: '$(warning) not run', summary: 'not run · not run', level: 'warning' });
  assert.equal(statusFromReport(null).level, 'none');
  assert.equal(statusFromReport({ outcome: 'infeasible', status: 'infeasible', solution: { status: 'infeasible' } }).text, '$(warning) infeasible · infeasible');
  assert.equal(statusFromReport({ outcome: 'expected', ok: true, status: 'infeasible' }).text, '$(pass) infeasible · as expected');
});

test('status bar text from the outcome lens and while running', () => {
  assert.deepEqual(statusFromLensTitle('optimal · objective 97 · validated · 0.8 s'), {
    text: '$(pass) 97 · validated',
    summary: 'optimal · objective 97 · validated · 0.8 s',
    level: 'ok',
  });
  assert.equal(statusFromLensTitle('infeasible · as expected · 0.4 s')!.text, '$(pass) infeasible · as expected');
  assert.equal(statusFromLensTitle('optimal · objective 5 · rejected · 1.0 s')!.level, 'error');
  assert.deepEqual(statusFromLensTitle('optimal · objective 97 · validated (last run) · 0.8 s'), {
    text: '$(pass) 97 · validated (last run)',
    summary: 'optimal · objective 97 · validated (last run) · 0.8 s',
    level: 'ok',
  });
  assert.equal(statusFromLensTitle('optimal · objective 5 · rejected (last run) · 1.0 s')!.level, 'error');
  assert.equal(statusFromLensTitle('infeasible · infeasible (last run) · 0.4 s')!.text, '$(warning) infeasible (last run)');
  assert.equal(statusFromLensTitle('$(sync~spin) solving...')!.level, 'running');
  assert.equal(statusFromLensTitle('slack 9'), null);
  assert.equal(statusRunning('solving (optimizer in the sandbox)', 45).text, '$(sync~spin) nemo 45%');
});

test('decisions with two indices become rows and nonzero bars', () => {
  const m = solutionModel(TRANSPORTATION);
  assert.equal(m.title, 'transportation.opt.md');
  assert.equal(m.variables.length, 1);
  const ship = m.variables[0];
  assert.equal(ship.arity, 2);
  assert.equal(ship.rows.length, 6);
  assert.equal(ship.nonzero, 3);
  assert.deepEqual(ship.shown.map((r) => r.index.join('/')), ['seattle/chicago', 'san-diego/new-york', 'san-diego/topeka']);
  assert.deepEqual(ship.bars, [
    { label: 'seattle, chicago', value: 300 },
    { label: 'san-diego, new-york', value: 325 },
    { label: 'san-diego, topeka', value: 275 },
  ]);
  const summary = Object.fromEntries(m.summary.map((s) => [s.label, s.value]));
  assert.equal(summary.objective, '153.675 (minimize)');
  assert.equal(summary.bound, undefined, 'a bound equal to the objective is not repeated');
  assert.equal(summary.validation, 'feasible, 11 checks; simulator objective 153.675');
  assert.equal(summary.expected, '153.675 (Dantzig (1963))');
  assert.deepEqual(m.slack.map((s) => s.state), ['tight', 'tight']);
});

test('-0.0 counts as zero; nonzeroOnly=false shows every row', () => {
  const m = solutionModel(DIET, { nonzeroOnly: false });
  const v = m.variables[0];
  assert.equal(v.shown.length, 6);
  assert.equal(v.nonzero, 3);
  assert.deepEqual(m.slack.map((s) => `${s.name}:${s.state}`), ['energy_need:slack', 'protein_need:slack', 'calcium_need:slack']);
});

test('scalar and integer-indexed variables, negative values, findings', () => {
  const m = solutionModel(REJECTED);
  const [build, level] = m.variables;
  assert.deepEqual([build.name, build.arity, build.rows], ['build', 0, [{ index: [], value: 1 }]]);
  assert.deepEqual(build.bars, [{ label: 'build', value: 1 }]);
  assert.deepEqual(level.rows, [
    { index: ['1'], value: 2.5 },
    { index: ['2'], value: -1.25 },
  ]);
  assert.deepEqual(m.slack, [{ name: 'cap', slack: -2, state: 'violated' }]);
  assert.deepEqual(m.findings, [{ severity: 'error', code: 'NEMO401', message: 'the simulator finds `cap` violated by 2', line: 41 }]);
  assert.equal(m.level, 'error');
});

test('maxBars caps the chart and counts what it leaves out', () => {
  const many = { ...DIET, solution: { ...DIET.solution, decisions: { x: Array.from({ length: 50 }, (_, i) => [`e${i}`, i + 1]) } } };
  const v = solutionModel(many, { maxBars: 10 }).variables[0];
  assert.equal(v.bars.length, 10);
  assert.equal(v.barsOmitted, 40);
});

test('a report without a solution has no variables', () => {
  const m = solutionModel(NOT_RUN);
  assert.deepEqual(m.variables, []);
  assert.equal(m.outcome, 'not run');
});

test('variableRows tolerates odd shapes', () => {
  assert.deepEqual(variableRows(null), { arity: 0, rows: [{ index: [], value: null }] });
  assert.deepEqual(variableRows([[], ['a', null], ['b', 'x' as unknown as number]]), {
    arity: 1,
    rows: [
      { index: ['a'], value: null },
      { index: ['b'], value: null },
    ],
  });
});

test('ReportStore: one history point per run, not per fetch', () => {
  let now = 1000;
  const store = new ReportStore(3, () => now++);
  const uri = 'file:///w/diet.opt.md';
  assert.equal(store.record(uri, DIET), true);
  assert.equal(store.record(uri, DIET), false, 'the same run fetched again');
  assert.equal(store.record(uri, { ...DIET, objective: 90, solution: { ...DIET.solution, objective: 90 }, timings: { total: 0.5 } }), true);
  assert.equal(store.record(uri, null), false);
  assert.deepEqual(store.history(uri).map((p) => [p.run, p.objective, p.level]), [
    [1, 97, 'ok'],
    [2, 90, 'ok'],
  ]);
  assert.equal(store.report(uri)?.objective, 90);
  for (let i = 0; i < 5; i++) {
    store.record(uri, { ...NOT_RUN, timings: { analyze: i } });
  }
  assert.deepEqual(store.history(uri).map((p) => [p.run, p.objective]), [
    [5, null],
    [6, null],
    [7, null],
  ]);
  store.forget(uri);
  assert.deepEqual(store.history(uri), []);
});
