/**
 * The bundled extension (dist/extension.js, what the .vsix ships) activated against the `vscode`
 * stub: command registration, the messages when the server cannot start and, with a real Python
 * that has nemo-lsp (NEMO_TEST_PYTHON, set by tests/editors/test_vscode.py), a real nemo-lsp
 * driven through vscode-languageclient: lens commands, a solve with progress, the status bar, the
 * solution view, settings and the server's showDocument.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { contributedCommandIds, serverCommandIds } from '../src/commands';
import { manifest, REPO, ROOT, vscodeStub, waitFor } from './helpers';

const { vscode, stub } = vscodeStub();
// eslint-disable-next-line @typescript-eslint/no-var-requires
const extension = require(path.join(ROOT, 'dist', 'extension.js'));

const PYTHON = process.env.NEMO_TEST_PYTHON;
let tmp: string;
let savedPath: string | undefined;

function context() {
  return { subscriptions: [], extensionUri: vscode.Uri.file(ROOT), extensionPath: ROOT, globalState: { get: () => undefined, update: async () => undefined } };
}

function output(): string {
  return stub.calls.outputs.map((o: any) => o.lines.join('\n')).join('\n');
}

function lastMessage(kind: string) {
  const m = stub.calls.messages.filter((x) => x.kind === kind);
  return m[m.length - 1];
}

function statusItem() {
  return stub.calls.statusBarItems[0];
}

/** A text document as VS Code hands it to the language client. */
function textDocument(file: string) {
  const text = fs.readFileSync(file, 'utf8');
  return {
    uri: vscode.Uri.file(file),
    fileName: file,
    languageId: 'optmd',
    version: 1,
    isClosed: false,
    isDirty: false,
    isUntitled: false,
    lineCount: text.split('\n').length,
    eol: 1,
    getText: () => text,
  };
}

beforeEach(() => {
  stub.reset();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nemo-vscode-'));
  savedPath = process.env.PATH;
});

afterEach(async () => {
  await extension.deactivate();
  process.env.PATH = savedPath;
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('activation registers a handler for every command in package.json', async () => {
  process.env.PATH = tmp; // no Python at all: the server does not start, the commands exist anyway
  extension.activate(context());
  const contributed: string[] = manifest().contributes.commands.map((c: { command: string }) => c.command);
  for (const id of contributed) {
    assert.ok(stub.commands.has(id), `no handler for ${id}`);
  }
  assert.deepEqual(new Set(contributed), new Set(contributedCommandIds()));
  await waitFor(() => !!lastMessage('error'), 'the error message');
});

test('no Python: a clear error with the install command and a button to open the settings', async () => {
  process.env.PATH = tmp;
  stub.answers.error = 'Open Settings';
  stub.activeTextEditor = { document: { uri: vscode.Uri.file(path.join(tmp, 'a.opt.md')), languageId: 'optmd' } };
  extension.activate(context());
  await waitFor(() => !!lastMessage('error'), 'the error message');
  const m = lastMessage('error')!;
  assert.match(m.text!, /^Nemo: No Python found to run nemo-lsp \(tried python3\)/);
  assert.match(m.text!, /`python -m pip install nemo-lsp`/);
  assert.deepEqual(m.items, ['Open Settings', 'Copy Install Command', 'Show Output']);
  await waitFor(() => stub.calls.executed.some((e) => e.id === 'workbench.action.openSettings'), 'the settings to open');
  assert.deepEqual(stub.calls.executed.find((e) => e.id === 'workbench.action.openSettings')!.args, ['nemo.server.command']);
  assert.equal(statusItem().text, '$(error) nemo');
  assert.equal(statusItem().visible, true);
  assert.match(output(), /\[error\] No Python found/);
});

test('a Python without nemo-lsp: the error names it; "Copy Install Command" copies the fix', { skip: process.platform === 'win32' }, async () => {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'python3'), "#!/bin/sh\necho \"No module named 'nemo_lsp'\"\nexit 4\n", { mode: 0o755 });
  process.env.PATH = bin;
  stub.answers.error = 'Copy Install Command';
  extension.activate(context());
  await waitFor(() => stub.calls.clipboard.length > 0, 'the install command on the clipboard');
  assert.match(lastMessage('error')!.text!, /nemo-lsp is not installed for python3 \(PATH\)\. Install it with `python3 -m pip install nemo-lsp`/);
  assert.deepEqual(stub.calls.clipboard, ['python3 -m pip install nemo-lsp']);
});

test('a nemo.server.command that does not exist: the error says so and how to install the server', async () => {
  stub.config['nemo.server.command'] = { defaultValue: [], globalValue: [path.join(tmp, 'no-such-nemo-lsp')] };
  extension.activate(context());
  await waitFor(() => !!lastMessage('error'), 'the error message');
  assert.match(lastMessage('error')!.text!, /no-such-nemo-lsp` \(nemo\.server\.command\) was not found\. .*`python -m pip install nemo-lsp`/);
  assert.deepEqual(lastMessage('error')!.items, ['Open Settings', 'Copy Install Command', 'Show Output']);
  assert.equal(stub.calls.messages.filter((m) => m.kind === 'error').length, 1, 'one message, not one per layer');
});

test('palette commands without a running server say so instead of failing', async () => {
  process.env.PATH = tmp;
  stub.answers.warning = undefined;
  const doc = { uri: vscode.Uri.file(path.join(tmp, 'a.opt.md')), languageId: 'optmd' };
  stub.activeTextEditor = { document: doc };
  extension.activate(context());
  await waitFor(() => !!lastMessage('error'), 'the error message');
  await vscode.commands.executeCommand('nemo.run.solve');
  assert.match(lastMessage('warning')!.text!, /^Nemo: the language server is not running: No Python found/);
  stub.activeTextEditor = undefined;
  await vscode.commands.executeCommand('nemo.open.optimizer');
  assert.equal(lastMessage('information')!.text, 'Nemo: open an .opt.md spec first.');
});

test('"New Optimization Problem" opens an untitled optmd document with the spec template', async () => {
  process.env.PATH = tmp;
  extension.activate(context());
  await vscode.commands.executeCommand('nemo.newProblem');
  const shown = stub.calls.executed.find((e) => e.id === 'window.showTextDocument');
  assert.equal((shown!.args[0] as { languageId: string }).languageId, 'optmd');
  assert.match(stub.calls.snippet!.value, /^# \$\{1:Weekly production plan\}[\s\S]*```model\n/);
});

test('"Select Agent" writes nemo.agent (workspace settings when a folder is open)', async () => {
  process.env.PATH = tmp;
  stub.workspaceFolders = [{ uri: vscode.Uri.file(tmp), name: 'w', index: 0 }];
  stub.answers.quickPick = (items: { label: string }[]) => items.find((i) => i.label === 'formal');
  extension.activate(context());
  await vscode.commands.executeCommand('nemo.selectAgent');
  assert.deepEqual(stub.calls.configUpdates, [{ key: 'nemo.agent', value: 'formal', target: 2 }]);
  stub.answers.quickPick = (items: { label: string }[]) => items.find((i) => i.label === 'Default');
  await vscode.commands.executeCommand('nemo.selectAgent');
  assert.deepEqual(stub.calls.configUpdates[1], { key: 'nemo.agent', value: undefined, target: 2 });
});

test('with a real nemo-lsp: lenses, a solve, the status bar, the solution view, settings, showDocument', { skip: !PYTHON && 'set NEMO_TEST_PYTHON to a Python that has nemo-lsp' }, async () => {
  const spec = path.join(tmp, 'diet.opt.md');
  fs.copyFileSync(path.join(REPO, 'examples', 'diet.opt.md'), spec);
  const doc = textDocument(spec);
  const uri = doc.uri.toString();
  stub.workspaceFolders = [{ uri: vscode.Uri.file(tmp), name: 'w', index: 0 }];
  stub.textDocuments = [doc];
  stub.activeTextEditor = { document: doc, selection: { active: new vscode.Position(0, 0) } };
  // The interpreter comes from the Python extension's API (the current shape of it).
  const changed = new vscode.EventEmitter();
  stub.extensions['ms-python.python'] = {
    id: 'ms-python.python',
    isActive: true,
    exports: {
      environments: {
        getActiveEnvironmentPath: () => ({ id: 'test', path: PYTHON }),
        resolveEnvironment: async () => ({ executable: { uri: vscode.Uri.file(PYTHON!) } }),
        onDidChangeActiveEnvironmentPath: changed.event,
      },
    },
  };
  stub.config['nemo.lintDelayMs'] = { defaultValue: 50, globalValue: 20 };
  extension.activate(context());
  await waitFor(() => /nemo-lsp \S* running/.test(output()), `the server to start\n${output()}`, 30000);
  assert.match(output(), /the Python extension's selected interpreter\): nemo-lsp \d/);

  // vscode-languageclient registered the server's commands (lenses and code actions use them)
  // next to the extension's own: no id is registered twice.
  for (const id of [...serverCommandIds(), ...contributedCommandIds()]) {
    assert.ok(stub.commands.has(id), `${id} is not registered`);
  }
  assert.equal(lastMessage('error'), undefined, JSON.stringify(stub.calls.messages));

  // Diagnostics arrive for the open spec (the example is clean: an empty list).
  await waitFor(() => stub.diagnostics.has(uri), 'diagnostics for the spec');

  // The outcome lens's command before any run: the view opens with "no run yet".
  await vscode.commands.executeCommand('nemo.showReport', uri);
  const panel = stub.calls.webviews[0];
  assert.ok(panel, 'executing the lens command nemo.showReport did not open the solution view');
  assert.equal(panel.title, 'Solution: diet.opt.md');
  assert.match(panel.webview.html, /No run yet for this spec/);

  // Solve from the palette: progress, then the report, the status bar and the view.
  await vscode.commands.executeCommand('nemo.run.solve');
  await waitFor(() => /validated/.test(statusItem().text), `the status bar to show the outcome (now ${statusItem().text})\n${output()}`, 60000);
  assert.equal(statusItem().text, '$(pass) 97 · validated');
  assert.equal(statusItem().command, 'nemo.showSolution');
  assert.ok(stub.calls.notifications.some((n: any) => n.kind === 'progress' && /nemo: solving diet\.opt\.md/.test(n.options.title)), 'no progress shown');
  await waitFor(() => /servings/.test(panel.webview.html), 'the view to show the report');
  assert.match(panel.webview.html, /<span class="badge ok">validated<\/span>/);
  assert.match(panel.webview.html, /<svg class="chart bars"/);
  assert.match(panel.webview.html, /<svg class="chart history"/);
  assert.match(panel.webview.html, /<td>oatmeal<\/td><td class="num">4<\/td>/);

  // The code lenses, as VS Code asks the provider the client registered: the outcome lens over
  // the title; running its command (nemo.showReport) shows the solution view.
  const lensProvider = stub.providers.registerCodeLensProvider.at(-1)![1];
  const lenses = await lensProvider.provideCodeLenses(doc, new vscode.CancellationTokenSource().token);
  const titles = lenses.map((l: any) => `${l.command?.command}: ${l.command?.title}`);
  const outcome = lenses.find((l: any) => l.command?.command === 'nemo.showReport' && l.command.title.includes(' · '));
  assert.ok(outcome, titles.join('\n'));
  assert.match(outcome.command.title, /^optimal · objective 97 · validated · \d+\.\d s$/);
  assert.ok(titles.includes('nemo.solve: ▶ Solve'), titles.join('\n'));
  assert.ok(titles.includes('nemo.showReport: slack 80'), titles.join('\n'));
  await vscode.commands.executeCommand(outcome.command.command, ...outcome.command.arguments);
  assert.equal(stub.calls.webviews.length, 1, 'the lens opened a second panel');

  // A button in the view runs the server command for the view's spec (window/showDocument back).
  panel.receive({ command: 'openOptimizer' });
  await waitFor(
    () => stub.calls.executed.some((e) => e.id === 'window.showTextDocument' && String(e.args[0]).endsWith('/diet.optimizer.py')),
    'the server to show diet.optimizer.py',
  );

  // Repair with the default agent: the server explains (window/showMessage).
  await vscode.commands.executeCommand('nemo.run.repairOptimizer');
  await waitFor(() => stub.calls.messages.some((m) => /needs a coding agent/.test(m.text ?? '')), 'the repair explanation');

  // A settings change reaches the server (workspace/didChangeConfiguration, only what was set).
  stub.config['nemo.agent'] = { defaultValue: '', workspaceValue: 'codex' };
  stub.fire('workspace.onDidChangeConfiguration', { affectsConfiguration: (s: string) => s === 'nemo' || s === 'nemo.agent' });
  await vscode.commands.executeCommand('nemo.run.repairOptimizer');
  await waitFor(() => stub.calls.messages.some((m) => /nothing to repair: the last run with the `codex` agent/.test(m.text ?? '')), 'the server to use the new agent');
  assert.match(output(), /server settings: \{"agent":"codex","lintDelayMs":20\}/);

  // nemo.showSolution shows the same spec; the history has one run.
  await vscode.commands.executeCommand('nemo.showSolution');
  assert.equal(stub.calls.webviews.length, 1, 'a second panel was created');
  assert.match(panel.webview.html, /<table class="history">[\s\S]*<td>1<\/td>/);

  // Restart: a new server, the same commands, no duplicate registration.
  await vscode.commands.executeCommand('nemo.restartServer');
  await waitFor(() => (output().match(/nemo-lsp \S* running/g) ?? []).length === 2, 'the restarted server');
  assert.equal(lastMessage('error'), undefined, JSON.stringify(stub.calls.messages));
  assert.ok(stub.commands.has('nemo.solve'));

  // Another interpreter selected in the Python extension: the server restarts with it.
  changed.fire({ id: 'test', path: PYTHON });
  await waitFor(() => (output().match(/nemo-lsp \S* running/g) ?? []).length === 3, 'the server to restart for the new interpreter');
  assert.match(output(), /the Python interpreter changed: restarting nemo-lsp/);
});
