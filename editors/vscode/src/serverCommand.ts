/**
 * How the extension starts nemo-lsp. Pure module: the Python extension's API object and the
 * probe (a child process in the extension) are passed in.
 *
 * Order: the `nemo.server.command` setting as given; otherwise a Python that can import
 * `nemo_lsp`: the interpreter selected in the Python extension (when it is installed), then
 * `python3` (`python` on Windows) on PATH. The first that has the package runs
 * `PYTHON -m nemo_lsp`. When none has it the error says how to install it.
 */

export type Source = 'setting' | 'python-extension' | 'path';

export interface Candidate {
  python: string[];
  source: Source;
}

export interface ServerCommand {
  command: string;
  args: string[];
  source: Source;
  /** The Python that runs the server (not known for a configured command). */
  python?: string[];
  /** nemo-lsp's version, as the probe printed it. */
  version?: string;
}

export type ProbeResult =
  | { ok: true; version: string }
  | { ok: false; kind: 'not-found' | 'no-package' | 'too-old' | 'failed'; detail: string };

export type Probe = (python: string[]) => Promise<ProbeResult>;

export interface ResolveError {
  /** One sentence for the notification. */
  message: string;
  /** What to run to install the server, e.g. `/usr/bin/python3 -m pip install nemo-lsp`. */
  installCommand: string;
}

export type Resolution =
  | { ok: true; server: ServerCommand; log: string[] }
  | { ok: false; error: ResolveError; log: string[] };

/** Python code run with `-c` to check an interpreter; exit 3: too old, 4: no package. */
export const PROBE_SCRIPT = [
  'import sys',
  'if sys.version_info < (3, 11):',
  '    print("python", sys.version.split()[0]); sys.exit(3)',
  'try:',
  '    import nemo_lsp',
  'except ImportError as exc:',
  '    print(exc); sys.exit(4)',
  'print(getattr(nemo_lsp, "__version__", "?"))',
].join('\n');

/** Interpret the probe's process result. `spawnError` is the error code of a failed spawn. */
export function parseProbe(exitCode: number | null, stdout: string, stderr: string, spawnError?: string): ProbeResult {
  if (spawnError === 'ENOENT') {
    return { ok: false, kind: 'not-found', detail: 'not found' };
  }
  if (spawnError) {
    return { ok: false, kind: 'failed', detail: spawnError };
  }
  const out = stdout.trim();
  if (exitCode === 0) {
    return { ok: true, version: out.split(/\s+/).pop() || '?' };
  }
  if (exitCode === 3) {
    return { ok: false, kind: 'too-old', detail: `${out || 'Python'} is older than 3.11` };
  }
  if (exitCode === 4) {
    return { ok: false, kind: 'no-package', detail: out || 'No module named nemo_lsp' };
  }
  const err = stderr.trim().split('\n').pop() || `exit code ${exitCode}`;
  return { ok: false, kind: 'failed', detail: err };
}

/** A configured `nemo.server.command`: a non-empty array of non-empty strings. */
export function configuredCommand(value: unknown): { command?: string[]; problem?: string } {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0) || value === '') {
    return {};
  }
  if (typeof value === 'string') {
    // A common slip in settings.json: "nemo-lsp" instead of ["nemo-lsp"]. Accept one word.
    return /\s/.test(value.trim())
      ? { problem: 'nemo.server.command must be an array, e.g. ["/path/to/python", "-m", "nemo_lsp"]' }
      : { command: [value.trim()] };
  }
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && p.length > 0)) {
    return { problem: 'nemo.server.command must be an array of non-empty strings' };
  }
  return { command: value as string[] };
}

export function defaultPython(platform: string): string[] {
  return platform === 'win32' ? ['python'] : ['python3'];
}

/** Quote a command for a shell the way a user would paste it. */
export function shellJoin(parts: readonly string[]): string {
  return parts.map((p) => (/^[\w@%+=:,./\\-]+$/.test(p) ? p : `"${p.replace(/(["\\$`])/g, '\\$1')}"`)).join(' ');
}

export function installCommand(python: readonly string[] | undefined): string {
  return `${python && python.length ? shellJoin(python) : 'python'} -m pip install nemo-lsp`;
}

export function pythonCandidates(extensionPython: string[] | undefined, platform: string): Candidate[] {
  const out: Candidate[] = [];
  if (extensionPython && extensionPython.length) {
    out.push({ python: extensionPython, source: 'python-extension' });
  }
  const fallback = defaultPython(platform);
  if (!out.some((c) => c.python.join('\0') === fallback.join('\0'))) {
    out.push({ python: fallback, source: 'path' });
  }
  return out;
}

const SOURCE_LABEL: Record<Source, string> = {
  setting: 'nemo.server.command',
  'python-extension': "the Python extension's selected interpreter",
  path: 'PATH',
};

/** Decide the server command. */
export async function resolveServer(
  opts: { configured: unknown; extensionPython?: string[]; platform: string },
  probe: Probe,
): Promise<Resolution> {
  const log: string[] = [];
  const configured = configuredCommand(opts.configured);
  if (configured.problem) {
    return {
      ok: false,
      error: { message: `${configured.problem}.`, installCommand: installCommand(undefined) },
      log: [configured.problem],
    };
  }
  if (configured.command) {
    const [command, ...args] = configured.command;
    log.push(`server command from nemo.server.command: ${shellJoin(configured.command)}`);
    return { ok: true, server: { command, args, source: 'setting' }, log };
  }
  const candidates = pythonCandidates(opts.extensionPython, opts.platform);
  const failures: { c: Candidate; r: ProbeResult }[] = [];
  for (const c of candidates) {
    const r = await probe(c.python);
    if (r.ok) {
      log.push(`using ${shellJoin(c.python)} (${SOURCE_LABEL[c.source]}): nemo-lsp ${r.version}`);
      return {
        ok: true,
        server: { command: c.python[0], args: [...c.python.slice(1), '-m', 'nemo_lsp'], source: c.source, python: c.python, version: r.version },
        log,
      };
    }
    log.push(`${shellJoin(c.python)} (${SOURCE_LABEL[c.source]}): ${r.detail}`);
    failures.push({ c, r });
  }
  // Prefer advice about an interpreter that exists (the selected one first).
  const usable = failures.find((f) => f.r.ok === false && f.r.kind === 'no-package');
  const old = failures.find((f) => f.r.ok === false && f.r.kind === 'too-old');
  let message: string;
  let python: string[] | undefined;
  if (usable) {
    python = usable.c.python;
    message =
      `nemo-lsp is not installed for ${shellJoin(python)} (${SOURCE_LABEL[usable.c.source]}). ` +
      `Install it with \`${installCommand(python)}\` or set nemo.server.command.`;
  } else if (old) {
    message =
      `${old.r.ok ? '' : old.r.detail}: nemo-lsp needs Python 3.11 or newer. Select a newer interpreter or set nemo.server.command, ` +
      `then install the server with \`python -m pip install nemo-lsp\`.`;
  } else {
    message =
      `No Python found to run nemo-lsp (tried ${candidates.map((c) => shellJoin(c.python)).join(', ')}). ` +
      `Install Python 3.11+ and then \`python -m pip install nemo-lsp\`, or set nemo.server.command.`;
  }
  return { ok: false, error: { message, installCommand: installCommand(python) }, log };
}

/**
 * The interpreter selected in the Python extension (ms-python.python), from its exported API.
 * The API changed over the years and the extension may be missing or fail to activate: every
 * access is guarded; any problem means "no interpreter from the Python extension".
 */
export async function pythonFromExtensionApi(api: unknown, resource?: unknown): Promise<string[] | undefined> {
  if (!api || typeof api !== 'object') {
    return undefined;
  }
  const a = api as Record<string, any>;
  try {
    const envs = a.environments;
    if (envs && typeof envs.getActiveEnvironmentPath === 'function') {
      const envPath = envs.getActiveEnvironmentPath(resource);
      let exe: string | undefined;
      if (typeof envs.resolveEnvironment === 'function' && envPath) {
        const resolved = await envs.resolveEnvironment(envPath);
        const uri = resolved?.executable?.uri;
        exe = typeof uri?.fsPath === 'string' ? uri.fsPath : undefined;
      }
      if (!exe && typeof envPath?.path === 'string' && envPath.path) {
        exe = envPath.path;
      }
      if (exe) {
        return [exe];
      }
    }
  } catch {
    // fall through to the older API
  }
  try {
    const details = a.settings?.getExecutionDetails?.(resource);
    const cmd = details?.execCommand;
    if (Array.isArray(cmd) && cmd.length && cmd.every((p: unknown) => typeof p === 'string' && p)) {
      return cmd as string[];
    }
  } catch {
    // no interpreter
  }
  return undefined;
}
