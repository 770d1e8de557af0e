/** Command ids: the extension, its manifest and the server agree. */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { contributedCommandIds, FORWARDED_COMMANDS, SERVER_COMMANDS, serverCommandIds } from '../src/commands';
import { manifest, REPO } from './helpers';

/** `COMMANDS = {...}` in nemo_lsp/server/actions.py: the ids the server registers. */
export function serverCommandsFromPython(): Map<string, string> {
  const source = fs.readFileSync(path.join(REPO, 'nemo_lsp', 'server', 'actions.py'), 'utf8');
  const block = /^COMMANDS\s*=\s*\{([^}]*)\}/m.exec(source);
  assert.ok(block, 'COMMANDS = {...} not found in nemo_lsp/server/actions.py');
  const out = new Map<string, string>();
  for (const m of block[1].matchAll(/"([a-z_]+)"\s*:\s*"([^"]+)"/g)) {
    out.set(m[1], m[2]);
  }
  assert.ok(out.size > 0, 'no entries parsed from COMMANDS');
  return out;
}

test('every server command id the extension uses exists in nemo_lsp/server/actions.py::COMMANDS', () => {
  const server = new Set(serverCommandsFromPython().values());
  for (const id of serverCommandIds()) {
    assert.ok(server.has(id), `${id} is not a server command (server has: ${[...server].join(', ')})`);
  }
});

test('the extension knows every server command (a new one needs a palette entry or a decision)', () => {
  assert.deepEqual(new Set(serverCommandIds()), new Set(serverCommandsFromPython().values()));
});

test('the palette forwards to server commands by name', () => {
  for (const [id, name] of Object.entries(FORWARDED_COMMANDS)) {
    assert.ok(SERVER_COMMANDS[name], `${id} forwards to unknown ${name}`);
  }
});

test("package.json contributes exactly the extension's commands, none with a server id", () => {
  const contributed: string[] = manifest().contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), [...contributedCommandIds()].sort());
  assert.equal(new Set(contributed).size, contributed.length, 'duplicate command in package.json');
  const server = new Set(serverCommandIds());
  for (const id of contributed) {
    // vscode-languageclient registers the server's ids itself; the same id twice would fail.
    assert.ok(!server.has(id), `${id} collides with a server command`);
  }
});

test('every command has a title in the "Nemo" category', () => {
  for (const c of manifest().contributes.commands) {
    assert.equal(c.category, 'Nemo', c.command);
    assert.ok(c.title && !c.title.startsWith('Nemo'), `${c.command}: title ${c.title}`);
  }
});

test('menus only name contributed commands', () => {
  const contributed = new Set(contributedCommandIds());
  for (const [menu, entries] of Object.entries(manifest().contributes.menus as Record<string, { command: string }[]>)) {
    for (const e of entries) {
      assert.ok(contributed.has(e.command), `${menu}: ${e.command}`);
    }
  }
});
