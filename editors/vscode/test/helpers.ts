/** Shared by the tests: paths, the package manifest, the `vscode` stub. */

import * as fs from 'fs';
import * as path from 'path';

/** editors/vscode (tests run from out/test/). */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The repository root (nemo_lsp/ lives there). */
export const REPO = path.resolve(ROOT, '..', '..');

export function readJson<T = any>(relative: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, relative), 'utf8')) as T;
}

export const manifest = () => readJson('package.json');

export interface Stub {
  calls: {
    outputs: { name: string; lines: string[] }[];
    messages: { kind: string; text?: string; items?: any }[];
    executed: { id: string; args: unknown[] }[];
    clipboard: string[];
    configUpdates: { key: string; value: unknown; target: number }[];
    notifications: unknown[];
    webviews: any[];
    statusBarItems: any[];
    snippet?: { value: string };
  };
  answers: Record<string, unknown>;
  config: Record<string, Record<string, unknown>>;
  extensions: Record<string, unknown>;
  unknown: Set<string>;
  commands: Map<string, (...args: any[]) => unknown>;
  activeTextEditor: unknown;
  textDocuments: unknown[];
  workspaceFolders: unknown;
  diagnostics: Map<string, unknown[]>;
  /** Per `languages.register*Provider`: the arguments of each live registration. */
  providers: Record<string, any[][]>;
  reset(): void;
  fire(name: string, value: unknown): void;
}

let installed: { vscode: any; stub: Stub } | undefined;

/** Make `require('vscode')` return test/stub/vscode.js (what VS Code provides to extensions). */
export function vscodeStub(): { vscode: any; stub: Stub } {
  if (!installed) {
    const stubPath = path.join(ROOT, 'test', 'stub', 'vscode.js');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? stubPath : resolve.call(this, request, ...rest);
    };
    const vscode = require(stubPath);
    installed = { vscode, stub: vscode.__stub as Stub };
  }
  return installed;
}

/** Wait until `cond()` holds (polling), or fail with `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
