/** VS Code settings -> the server's settings. */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { explicitValue, Inspection, serverSettings, SERVER_SETTINGS } from '../src/settings';
import { manifest, REPO } from './helpers';

const inspectFrom = (values: Record<string, Inspection>) => (key: string) => values[key];

/** The keys nemo_lsp/server/settings.py accepts, in camelCase. */
function serverKeys(): string[] {
  const source = fs.readFileSync(path.join(REPO, 'nemo_lsp', 'server', 'settings.py'), 'utf8');
  const block = /^_TYPES[^=]*=\s*\{([\s\S]*?)\n\}/m.exec(source);
  assert.ok(block, '_TYPES not found in nemo_lsp/server/settings.py');
  return [...block[1].matchAll(/"([a-z_]+)"\s*:/g)].map((m) => m[1].replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
}

test('the extension sends exactly the settings the server reads', () => {
  assert.deepEqual(SERVER_SETTINGS.map((s) => s.key).sort(), serverKeys().sort());
});

test('package.json declares every server setting under nemo.* (and the client-only ones)', () => {
  const declared = new Set<string>();
  for (const group of manifest().contributes.configuration) {
    for (const key of Object.keys(group.properties)) {
      declared.add(key);
    }
  }
  for (const s of SERVER_SETTINGS) {
    assert.ok(declared.has(`nemo.${s.key}`), `nemo.${s.key} missing from package.json`);
  }
  const clientOnly = [...declared].filter((k) => !SERVER_SETTINGS.some((s) => `nemo.${s.key}` === k)).sort();
  assert.deepEqual(clientOnly, [
    'nemo.server.command',
    'nemo.solution.maxBars',
    'nemo.solution.nonzeroOnly',
    'nemo.solution.openAfterRun',
    'nemo.statusBar.enabled',
    'nemo.trace.server',
  ]);
});

test('package.json groups the settings: server, agent, sandbox, validation, runs, display', () => {
  const titles = manifest().contributes.configuration.map((g: { title: string }) => g.title);
  assert.deepEqual(titles, ['Server', 'Agent', 'Sandbox', 'Validation', 'Runs and linting', 'Display']);
});

test("package.json's defaults are the server's defaults", () => {
  const source = fs.readFileSync(path.join(REPO, 'nemo_lsp', 'server', 'settings.py'), 'utf8');
  const props: Record<string, { default: unknown }> = Object.assign({}, ...manifest().contributes.configuration.map((g: any) => g.properties));
  const pyDefault = (name: string) => {
    const m = new RegExp(`^\\s+${name}: [^=]+= (.+)$`, 'm').exec(source);
    assert.ok(m, name);
    return m[1].trim();
  };
  assert.equal(Number(pyDefault('time_limit')), props['nemo.timeLimit'].default);
  assert.equal(Number(pyDefault('memory_limit')), props['nemo.memoryLimit'].default);
  assert.equal(Number(pyDefault('lint_delay_ms')), props['nemo.lintDelayMs'].default);
  assert.equal(Number(pyDefault('lint_budget').replace(/_/g, '')), props['nemo.lintBudget'].default);
  assert.equal(pyDefault('run_on_save') === 'True', props['nemo.runOnSave'].default);
  assert.equal(pyDefault('watch_files') === 'True', props['nemo.watchFiles'].default);
});

test('only values the user set are sent (defaults would hide [tool.nemo] in pyproject.toml)', () => {
  const r = serverSettings(inspectFrom({ timeLimit: { defaultValue: 60 }, runOnSave: { defaultValue: true, globalValue: false } }));
  assert.deepEqual(r, { settings: { nemo: { runOnSave: false } }, problems: [] });
});

test('folder settings win over workspace settings over user settings', () => {
  const r = serverSettings(
    inspectFrom({
      timeLimit: { defaultValue: 60, globalValue: 10, workspaceValue: 20, workspaceFolderValue: 30 },
      memoryLimit: { globalValue: 1024, workspaceValue: 2048 },
      sandbox: { globalValue: 'local' },
    }),
  );
  assert.deepEqual(r.settings.nemo, { timeLimit: 30, memoryLimit: 2048, sandbox: 'local' });
});

test('an empty agent or sandbox means "not set"', () => {
  const r = serverSettings(inspectFrom({ agent: { globalValue: '  ' }, sandbox: { workspaceValue: '' } }));
  assert.deepEqual(r.settings.nemo, {});
});

test('wrong types and ranges are reported and not sent', () => {
  const r = serverSettings(
    inspectFrom({
      timeLimit: { globalValue: 0 },
      memoryLimit: { globalValue: 12.5 },
      lintDelayMs: { globalValue: -1 },
      runOnSave: { globalValue: 'yes' as unknown as boolean },
      lintBudget: { globalValue: 100 },
    }),
  );
  assert.deepEqual(r.settings.nemo, { lintBudget: 100 });
  assert.equal(r.problems.length, 4);
  assert.match(r.problems.join('\n'), /nemo\.timeLimit must be greater than 0/);
  assert.match(r.problems.join('\n'), /nemo\.memoryLimit must be an integer/);
  assert.match(r.problems.join('\n'), /nemo\.runOnSave must be true or false/);
});

test('explicitValue ignores defaults and keeps falsy values the user set', () => {
  assert.equal(explicitValue(undefined), undefined);
  assert.equal(explicitValue({ defaultValue: 1 }), undefined);
  assert.equal(explicitValue({ globalValue: 0 }), 0);
  assert.equal(explicitValue({ workspaceValue: false, globalValue: true }), false);
});

test('agentOptions is sent as an object and anything else is refused', () => {
  const ok = serverSettings(inspectFrom({ agentOptions: { globalValue: { model: 'm', timeout: 60 } }, repairRounds: { globalValue: 0 } }));
  assert.deepEqual(ok.settings.nemo, { agentOptions: { model: 'm', timeout: 60 }, repairRounds: 0 });
  const bad = serverSettings(inspectFrom({ agentOptions: { globalValue: 'model=m' } }));
  assert.deepEqual(bad.settings.nemo, {});
  assert.match(bad.problems.join('\n'), /nemo\.agentOptions must be an object/);
});
