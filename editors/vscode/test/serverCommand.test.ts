/** Starting the server: the configured command, else a Python that has nemo_lsp. */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  configuredCommand,
  installCommand,
  parseProbe,
  Probe,
  ProbeResult,
  PROBE_SCRIPT,
  pythonCandidates,
  pythonFromExtensionApi,
  resolveServer,
  shellJoin,
} from '../src/serverCommand';

/** A probe that answers from a table and records what it was asked. */
function fakeProbe(answers: Record<string, ProbeResult>): Probe & { asked: string[] } {
  const asked: string[] = [];
  const probe = async (python: string[]) => {
    asked.push(python.join(' '));
    return answers[python.join(' ')] ?? { ok: false, kind: 'not-found', detail: 'not found' };
  };
  return Object.assign(probe, { asked });
}

test('nemo.server.command is used as given, without probing', async () => {
  const probe = fakeProbe({});
  const r = await resolveServer({ configured: ['/venv/bin/python', '-m', 'nemo_lsp'], platform: 'linux' }, probe);
  assert.ok(r.ok);
  assert.deepEqual([r.server.command, r.server.args, r.server.source], ['/venv/bin/python', ['-m', 'nemo_lsp'], 'setting']);
  assert.deepEqual(probe.asked, []);
});

test("the Python extension's interpreter comes first, then python3 on PATH", async () => {
  const probe = fakeProbe({ '/venv/bin/python': { ok: true, version: '0.1.0' } });
  const r = await resolveServer({ configured: [], extensionPython: ['/venv/bin/python'], platform: 'linux' }, probe);
  assert.ok(r.ok);
  assert.deepEqual([r.server.command, r.server.args, r.server.source, r.server.version], ['/venv/bin/python', ['-m', 'nemo_lsp'], 'python-extension', '0.1.0']);
  assert.deepEqual(probe.asked, ['/venv/bin/python']);
});

test('a selected interpreter without the package falls back to python3 on PATH', async () => {
  const probe = fakeProbe({
    '/venv/bin/python': { ok: false, kind: 'no-package', detail: "No module named 'nemo_lsp'" },
    python3: { ok: true, version: '0.1.0' },
  });
  const r = await resolveServer({ configured: undefined, extensionPython: ['/venv/bin/python'], platform: 'linux' }, probe);
  assert.ok(r.ok);
  assert.deepEqual([r.server.command, r.server.source], ['python3', 'path']);
  assert.match(r.log.join('\n'), /\/venv\/bin\/python .*No module named/);
});

test('conda-style interpreters (a command with arguments) keep their arguments', async () => {
  const probe = fakeProbe({ 'conda run -n opt python': { ok: true, version: '0.1.0' } });
  const r = await resolveServer({ configured: [], extensionPython: ['conda', 'run', '-n', 'opt', 'python'], platform: 'linux' }, probe);
  assert.ok(r.ok);
  assert.deepEqual([r.server.command, ...r.server.args], ['conda', 'run', '-n', 'opt', 'python', '-m', 'nemo_lsp']);
});

test('without the package anywhere: the error names the interpreter and the install command', async () => {
  const probe = fakeProbe({
    '/venv/bin/python': { ok: false, kind: 'no-package', detail: "No module named 'nemo_lsp'" },
    python3: { ok: false, kind: 'no-package', detail: "No module named 'nemo_lsp'" },
  });
  const r = await resolveServer({ configured: [], extensionPython: ['/venv/bin/python'], platform: 'linux' }, probe);
  assert.ok(!r.ok);
  assert.equal(r.error.installCommand, '/venv/bin/python -m pip install nemo-lsp');
  assert.match(r.error.message, /nemo-lsp is not installed for \/venv\/bin\/python \(the Python extension's selected interpreter\)/);
  assert.match(r.error.message, /`\/venv\/bin\/python -m pip install nemo-lsp`/);
});

test('without any Python: the generic install command', async () => {
  const r = await resolveServer({ configured: [], platform: 'linux' }, fakeProbe({}));
  assert.ok(!r.ok);
  assert.equal(r.error.installCommand, 'python -m pip install nemo-lsp');
  assert.match(r.error.message, /No Python found to run nemo-lsp \(tried python3\)/);
});

test('a Python older than 3.11 is explained', async () => {
  const r = await resolveServer({ configured: [], platform: 'linux' }, fakeProbe({ python3: { ok: false, kind: 'too-old', detail: 'python 3.9.2 is older than 3.11' } }));
  assert.ok(!r.ok);
  assert.match(r.error.message, /needs Python 3\.11 or newer/);
});

test('on Windows the fallback is `python`', () => {
  assert.deepEqual(pythonCandidates(undefined, 'win32'), [{ python: ['python'], source: 'path' }]);
  assert.deepEqual(pythonCandidates(['python3'], 'linux'), [{ python: ['python3'], source: 'python-extension' }]);
});

test('nemo.server.command: arrays of strings; a single word is forgiven; anything else is a problem', async () => {
  assert.deepEqual(configuredCommand([]), {});
  assert.deepEqual(configuredCommand(undefined), {});
  assert.deepEqual(configuredCommand('nemo-lsp'), { command: ['nemo-lsp'] });
  assert.match(configuredCommand('python -m nemo_lsp').problem!, /must be an array/);
  assert.match(configuredCommand(['python', 3]).problem!, /non-empty strings/);
  const r = await resolveServer({ configured: [1, 2], platform: 'linux' }, fakeProbe({}));
  assert.ok(!r.ok);
  assert.match(r.error.message, /nemo\.server\.command must be an array of non-empty strings/);
});

test('parseProbe reads the probe script\'s exit codes', () => {
  assert.deepEqual(parseProbe(0, '0.1.0\n', ''), { ok: true, version: '0.1.0' });
  assert.equal((parseProbe(4, "No module named 'nemo_lsp'\n", '') as any).kind, 'no-package');
  assert.equal((parseProbe(3, 'python 3.9.2\n', '') as any).kind, 'too-old');
  assert.equal((parseProbe(null, '', '', 'ENOENT') as any).kind, 'not-found');
  assert.deepEqual(parseProbe(1, '', 'Traceback...\nSyntaxError: boom\n'), { ok: false, kind: 'failed', detail: 'SyntaxError: boom' });
});

test('the probe script against a real Python (NEMO_TEST_PYTHON, set by the pytest wrapper)', { skip: !process.env.NEMO_TEST_PYTHON }, () => {
  const python = process.env.NEMO_TEST_PYTHON!;
  const run = (args: string[]) => {
    const p = spawnSync(python, [...args, '-c', PROBE_SCRIPT], { encoding: 'utf8' });
    return parseProbe(p.status, p.stdout, p.stderr, (p.error as NodeJS.ErrnoException | undefined)?.code);
  };
  const ok = run([]);
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.match(ok.version, /^\d+\.\d+/);
  // -I -S: no site-packages, so no nemo_lsp: what a Python without the package says.
  const missing = run(['-I', '-S']);
  assert.deepEqual(missing.ok ? 'ok' : missing.kind, 'no-package');
});

test('shellJoin and installCommand quote what a shell would need', () => {
  assert.equal(shellJoin(['/usr/bin/python3', '-m', 'nemo_lsp']), '/usr/bin/python3 -m nemo_lsp');
  assert.equal(shellJoin(['C:\\Program Files\\Python\\python.exe']), '"C:\\\\Program Files\\\\Python\\\\python.exe"');
  assert.equal(installCommand(['/my venv/bin/python']), '"/my venv/bin/python" -m pip install nemo-lsp');
  assert.equal(installCommand(undefined), 'python -m pip install nemo-lsp');
});

test("the Python extension's API: current, older, broken or missing", async () => {
  const current = {
    environments: {
      getActiveEnvironmentPath: () => ({ id: 'x', path: '/venv' }),
      resolveEnvironment: async () => ({ executable: { uri: { fsPath: '/venv/bin/python' } } }),
    },
  };
  assert.deepEqual(await pythonFromExtensionApi(current), ['/venv/bin/python']);
  const unresolved = { environments: { getActiveEnvironmentPath: () => ({ id: 'x', path: '/usr/bin/python3' }), resolveEnvironment: async () => undefined } };
  assert.deepEqual(await pythonFromExtensionApi(unresolved), ['/usr/bin/python3']);
  const older = { settings: { getExecutionDetails: () => ({ execCommand: ['/old/python'] }) } };
  assert.deepEqual(await pythonFromExtensionApi(older), ['/old/python']);
  const throwing = {
    environments: {
      getActiveEnvironmentPath: () => {
        throw new Error('not ready');
      },
    },
    settings: { getExecutionDetails: () => ({ execCommand: ['/fallback/python'] }) },
  };
  assert.deepEqual(await pythonFromExtensionApi(throwing), ['/fallback/python']);
  assert.equal(await pythonFromExtensionApi({ settings: { getExecutionDetails: () => ({ execCommand: undefined }) } }), undefined);
  assert.equal(await pythonFromExtensionApi(undefined), undefined);
  assert.equal(await pythonFromExtensionApi('nonsense'), undefined);
});
