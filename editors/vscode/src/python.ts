/** Finding a Python for the server: the Python extension's interpreter, and the probe. */

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { parseProbe, ProbeResult, pythonFromExtensionApi, PROBE_SCRIPT } from './serverCommand';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

function withTimeout<T>(p: Thenable<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** The Python extension's API, or undefined when it is not installed or does not activate. */
export async function pythonExtensionApi(log: vscode.LogOutputChannel): Promise<unknown> {
  const ext = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    return ext.isActive ? ext.exports : await withTimeout(ext.activate(), 15000, 'activating the Python extension');
  } catch (err) {
    log.warn(`the Python extension is installed but its API is not available: ${String(err)}`);
    return undefined;
  }
}

/** The interpreter selected in the Python extension for `resource`, if any. */
export async function selectedPython(log: vscode.LogOutputChannel, resource?: vscode.Uri): Promise<string[] | undefined> {
  const api = await pythonExtensionApi(log);
  const python = await pythonFromExtensionApi(api, resource);
  if (api && !python) {
    log.info('the Python extension has no interpreter selected');
  }
  return python;
}

/** Subscribe to interpreter changes in the Python extension (no-op when it is absent). */
export async function onPythonChanged(log: vscode.LogOutputChannel, listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = (await pythonExtensionApi(log)) as Record<string, any> | undefined;
  try {
    const event = api?.environments?.onDidChangeActiveEnvironmentPath ?? api?.settings?.onDidChangeExecutionDetails;
    if (typeof event === 'function') {
      const d = event(() => listener());
      return d && typeof d.dispose === 'function' ? d : undefined;
    }
  } catch (err) {
    log.warn(`cannot follow the Python extension's interpreter: ${String(err)}`);
  }
  return undefined;
}

/** Does `python` run and import nemo_lsp? */
export function probePython(python: string[], cwd?: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      python[0],
      [...python.slice(1), '-c', PROBE_SCRIPT],
      { timeout: 30000, windowsHide: true, cwd },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(parseProbe(0, String(stdout), String(stderr)));
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (typeof e.code === 'string') {
          resolve(parseProbe(null, '', '', e.code));
        } else if (e.killed) {
          resolve(parseProbe(null, '', '', 'timed out after 30 s'));
        } else {
          resolve(parseProbe(typeof e.code === 'number' ? e.code : null, String(stdout), String(stderr)));
        }
      },
    );
  });
}

/** Is `command` an existing file (a path) or found on PATH (a bare name)? */
export function executableExists(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const isFile = (p: string) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/') || command.includes('\\')) {
    return isFile(command);
  }
  const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  return (env.PATH ?? '').split(path.delimiter).some((dir) => dir && exts.some((e) => isFile(path.join(dir, command + e))));
}
