/**
 * VS Code settings -> the server's settings (initializationOptions and
 * workspace/didChangeConfiguration). Pure module.
 *
 * The server layers its settings: defaults < `[tool.nemo]` in the workspace's pyproject.toml <
 * the editor's settings. So the extension sends only the values the user actually set (in user,
 * workspace or folder settings), never VS Code's defaults, which would hide pyproject.toml.
 * Client-only settings (`nemo.server.*`, `nemo.statusBar.*`, `nemo.solution.*`) are never sent:
 * the server would report them as unknown.
 */

export type SettingType = 'string' | 'number' | 'integer' | 'boolean' | 'object';

export interface ServerSetting {
  /** Key under `nemo.` in VS Code and in the server's settings object (camelCase). */
  key: string;
  type: SettingType;
  /** An empty string means "not set" (agent, sandbox). */
  emptyIsUnset?: boolean;
  /** Must be > 0. */
  positive?: boolean;
  /** Must be >= 0. */
  nonNegative?: boolean;
}

/** Exactly the settings nemo_lsp/server/settings.py reads. */
export const SERVER_SETTINGS: readonly ServerSetting[] = [
  { key: 'agent', type: 'string', emptyIsUnset: true },
  { key: 'sandbox', type: 'string', emptyIsUnset: true },
  { key: 'timeLimit', type: 'number', positive: true },
  { key: 'memoryLimit', type: 'integer', positive: true },
  { key: 'runOnSave', type: 'boolean' },
  { key: 'lintDelayMs', type: 'integer', nonNegative: true },
  { key: 'watchFiles', type: 'boolean' },
  { key: 'lintBudget', type: 'integer', positive: true },
  { key: 'agentOptions', type: 'object' },
  { key: 'repairRounds', type: 'integer', nonNegative: true },
  { key: 'warmWorkers', type: 'integer', nonNegative: true },
  { key: 'probe', type: 'number', nonNegative: true },
  { key: 'memory', type: 'string', emptyIsUnset: true },
  { key: 'memoryExamples', type: 'integer', nonNegative: true },
];

/** A value sent to the server (agentOptions is an object of strings and numbers). */
export type SettingValue = string | number | boolean | Record<string, unknown>;

/** The shape of `WorkspaceConfiguration.inspect()` that matters here. */
export interface Inspection<T = unknown> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export type Inspect = (key: string) => Inspection | undefined;

export interface ServerSettingsResult {
  /** The object sent to the server, `{ nemo: { ... } }`. */
  settings: { nemo: Record<string, SettingValue> };
  /** One message per ignored value (wrong type or range). */
  problems: string[];
}

/** The value the user set, most specific scope first; undefined when only the default applies. */
export function explicitValue(i: Inspection | undefined): unknown {
  if (!i) {
    return undefined;
  }
  for (const v of [i.workspaceFolderValue, i.workspaceValue, i.globalValue]) {
    if (v !== undefined && v !== null) {
      return v;
    }
  }
  return undefined;
}

function check(s: ServerSetting, value: unknown): string | undefined {
  switch (s.type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'an object';
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return s.type === 'integer' ? 'an integer' : 'a number';
      }
      if (s.type === 'integer' && !Number.isInteger(value)) {
        return 'an integer';
      }
      if (s.positive && value <= 0) {
        return 'greater than 0';
      }
      if (s.nonNegative && value < 0) {
        return '0 or more';
      }
      return undefined;
    }
  }
}

/** Build the server's settings from what the user set. */
export function serverSettings(inspect: Inspect): ServerSettingsResult {
  const nemo: Record<string, SettingValue> = {};
  const problems: string[] = [];
  for (const s of SERVER_SETTINGS) {
    let value = explicitValue(inspect(s.key));
    if (value === undefined) {
      continue;
    }
    if (typeof value === 'string') {
      value = value.trim();
      if (s.emptyIsUnset && value === '') {
        continue;
      }
    }
    const wanted = check(s, value);
    if (wanted) {
      problems.push(`nemo.${s.key} must be ${wanted} (got ${JSON.stringify(value)}); not sent to the server`);
      continue;
    }
    nemo[s.key] = value as SettingValue;
  }
  return { settings: { nemo }, problems };
}
