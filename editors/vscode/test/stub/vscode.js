// A stand-in for the `vscode` module, enough for the extension and vscode-languageclient to
// activate, start a real server and run commands under `node --test` (no VS Code here).
//
// Everything the tests look at is recorded in `stub.calls`; answers to notifications and quick
// picks come from `stub.answers`. Unknown members resolve to a permissive dummy (logged in
// `stub.unknown`) so a new API used by a dependency fails loudly in the test, not at import.
'use strict';

const { URL, pathToFileURL, fileURLToPath } = require('url');
const path = require('path');
const fs = require('fs');

const stub = {
  calls: { outputs: [], messages: [], executed: [], clipboard: [], configUpdates: [], notifications: [], webviews: [], statusBarItems: [] },
  answers: { error: undefined, warning: undefined, information: undefined, quickPick: undefined, inputBox: undefined },
  config: {},
  extensions: {},
  unknown: new Set(),
  commands: new Map(),
  activeTextEditor: undefined,
  textDocuments: [],
  workspaceFolders: undefined,
  diagnostics: new Map(),
  providers: {},
};

/** Forget everything between tests (registered commands included). */
stub.reset = function reset() {
  for (const k of Object.keys(stub.calls)) {
    stub.calls[k] = [];
  }
  delete stub.calls.snippet;
  for (const k of Object.keys(stub.answers)) {
    stub.answers[k] = undefined;
  }
  stub.config = {};
  stub.extensions = {};
  stub.unknown.clear();
  stub.commands.clear();
  stub.activeTextEditor = undefined;
  stub.textDocuments = [];
  stub.workspaceFolders = undefined;
  stub.diagnostics.clear();
  stub.providers = {};
};

/** Fire one of the stub's events, e.g. stub.fire('workspace.onDidChangeConfiguration', e). */
stub.fire = function fire(name, value) {
  if (events[name]) {
    events[name].fire(value);
  }
};

// --- basics -------------------------------------------------------------------------------------

class Disposable {
  constructor(fn) {
    this._fn = fn;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((i) => i && i.dispose && i.dispose()));
  }
  dispose() {
    if (this._fn) {
      this._fn();
      this._fn = undefined;
    }
  }
}

class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (listener, thisArg, disposables) => {
      const l = thisArg ? listener.bind(thisArg) : listener;
      this.listeners.add(l);
      const d = new Disposable(() => this.listeners.delete(l));
      if (Array.isArray(disposables)) {
        disposables.push(d);
      }
      return d;
    };
  }
  fire(value) {
    for (const l of [...this.listeners]) {
      l(value);
    }
  }
  dispose() {
    this.listeners.clear();
  }
}

class CancellationTokenSource {
  constructor() {
    this._emitter = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: this._emitter.event };
  }
  cancel() {
    this.token.isCancellationRequested = true;
    this._emitter.fire();
  }
  dispose() {}
}

class Uri {
  constructor(scheme, authority, p, query, fragment) {
    this.scheme = scheme;
    this.authority = authority || '';
    this.path = p || '';
    this.query = query || '';
    this.fragment = fragment || '';
  }
  static parse(value) {
    const u = new URL(value);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname), u.search.replace(/^\?/, ''), u.hash.replace(/^#/, ''));
  }
  static file(p) {
    return Uri.parse(pathToFileURL(p).href);
  }
  static joinPath(base, ...parts) {
    return base.with({ path: path.posix.join(base.path, ...parts) });
  }
  static from(c) {
    return new Uri(c.scheme, c.authority, c.path, c.query, c.fragment);
  }
  get fsPath() {
    return this.scheme === 'file' ? fileURLToPath(this.toString()) : this.path;
  }
  with(change) {
    return new Uri(change.scheme ?? this.scheme, change.authority ?? this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
  }
  toString() {
    if (this.scheme === 'file') {
      return pathToFileURL(this.path).href;
    }
    return `${this.scheme}:${this.authority ? `//${this.authority}` : ''}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
  toJSON() {
    return { scheme: this.scheme, path: this.path, $mid: 1 };
  }
}

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
  isBefore(o) {
    return this.line < o.line || (this.line === o.line && this.character < o.character);
  }
  isAfter(o) {
    return o.isBefore(this);
  }
  isEqual(o) {
    return this.line === o.line && this.character === o.character;
  }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
  contains(p) {
    const pos = p instanceof Range ? p.start : p;
    return !pos.isBefore(this.start) && !this.end.isBefore(pos);
  }
  get isEmpty() {
    return this.start.isEqual(this.end);
  }
}

class Selection extends Range {
  constructor(anchor, active) {
    super(anchor, active);
    this.anchor = anchor;
    this.active = active;
  }
}

class Location {
  constructor(uri, range) {
    this.uri = uri;
    this.range = range;
  }
}

class Diagnostic {
  constructor(range, message, severity) {
    this.range = range;
    this.message = message;
    this.severity = severity;
  }
}

class DiagnosticRelatedInformation {
  constructor(location, message) {
    this.location = location;
    this.message = message;
  }
}

class CodeLens {
  constructor(range, command) {
    this.range = range;
    this.command = command;
  }
}

class MarkdownString {
  constructor(value = '', supportThemeIcons = false) {
    this.value = value;
    this.supportThemeIcons = supportThemeIcons;
  }
  appendText(t) {
    this.value += t;
    return this;
  }
  appendMarkdown(t) {
    this.value += t;
    return this;
  }
  appendCodeblock(t) {
    this.value += `\n\`\`\`\n${t}\n\`\`\`\n`;
    return this;
  }
}

class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}

class SnippetString {
  constructor(value = '') {
    this.value = value;
  }
}

class TextEdit {
  constructor(range, newText) {
    this.range = range;
    this.newText = newText;
  }
}

class WorkspaceEdit {
  constructor() {
    this.edits = [];
  }
  replace(uri, range, text) {
    this.edits.push({ uri, range, text });
  }
  insert(uri, pos, text) {
    this.edits.push({ uri, range: new Range(pos, pos), text });
  }
  set(uri, edits) {
    this.edits.push({ uri, edits });
  }
}

class CodeActionKind {
  constructor(value) {
    this.value = value;
  }
  append(part) {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other) {
    return this.value === other.value || other.value.startsWith(`${this.value}.`);
  }
  intersects(other) {
    return this.contains(other) || other.contains(this);
  }
}
for (const [k, v] of Object.entries({ Empty: '', QuickFix: 'quickfix', Refactor: 'refactor', RefactorExtract: 'refactor.extract', RefactorInline: 'refactor.inline', RefactorRewrite: 'refactor.rewrite', Source: 'source', SourceOrganizeImports: 'source.organizeImports', SourceFixAll: 'source.fixAll' })) {
  CodeActionKind[k] = new CodeActionKind(v);
}

// --- configuration ------------------------------------------------------------------------------

function getConfiguration(section) {
  const prefix = section ? `${section}.` : '';
  const values = () => stub.config; // flat: { 'nemo.agent': { globalValue: 'formal' } }
  return {
    get(key, defaultValue) {
      const i = values()[prefix + key];
      if (!i) {
        return defaultValue;
      }
      for (const v of [i.workspaceFolderValue, i.workspaceValue, i.globalValue]) {
        if (v !== undefined) {
          return v;
        }
      }
      return i.defaultValue !== undefined ? i.defaultValue : defaultValue;
    },
    has(key) {
      return prefix + key in values();
    },
    inspect(key) {
      const i = values()[prefix + key];
      return i ? { key: prefix + key, ...i } : { key: prefix + key };
    },
    update(key, value, target) {
      stub.calls.configUpdates.push({ key: prefix + key, value, target });
      const entry = (values()[prefix + key] = values()[prefix + key] || {});
      entry[target === ConfigurationTarget.Workspace ? 'workspaceValue' : 'globalValue'] = value;
      return Promise.resolve();
    },
  };
}

// --- namespaces ---------------------------------------------------------------------------------

const events = {};
function event(name) {
  if (!events[name]) {
    events[name] = new EventEmitter();
  }
  return events[name].event;
}

function permissive(name) {
  // A value for an API the stub does not model: callable, constructible, returns disposables.
  stub.unknown.add(name);
  const fn = function () {
    return new Disposable();
  };
  return new Proxy(fn, {
    get(target, prop) {
      if (prop === 'dispose') {
        return () => undefined;
      }
      if (prop === 'then') {
        return undefined;
      }
      return permissive(`${name}.${String(prop)}`);
    },
    construct() {
      return permissive(`new ${name}`);
    },
  });
}

function namespace(name, members) {
  return new Proxy(members, {
    get(target, prop) {
      if (prop in target) {
        return target[prop];
      }
      if (typeof prop === 'string' && /^on[A-Z]/.test(prop)) {
        return event(`${name}.${prop}`);
      }
      if (typeof prop === 'string' && prop.startsWith('register')) {
        // Providers the language client registers: kept, so tests can call them as VS Code would.
        return (...args) => {
          const list = (stub.providers[prop] = stub.providers[prop] || []);
          list.push(args);
          return new Disposable(() => list.splice(list.indexOf(args), 1));
        };
      }
      return typeof prop === 'string' ? permissive(`${name}.${prop}`) : undefined;
    },
  });
}

function message(kind) {
  return (text, ...rest) => {
    const items = rest.filter((r) => typeof r === 'string' || (r && typeof r === 'object' && 'title' in r));
    stub.calls.messages.push({ kind, text, items: items.map((i) => (typeof i === 'string' ? i : i.title)) });
    const answer = stub.answers[kind];
    return Promise.resolve(typeof answer === 'function' ? answer(text, items) : answer);
  };
}

function outputChannel(name, options) {
  const lines = [];
  stub.calls.outputs.push({ name, lines });
  const log = (level) => (msg, ...args) => lines.push(`[${level}] ${msg}${args.length ? ` ${args.map(String).join(' ')}` : ''}`);
  return {
    name,
    lines,
    isLog: !!(options && options.log),
    logLevel: 2,
    onDidChangeLogLevel: new EventEmitter().event,
    append: (v) => lines.push(v),
    appendLine: (v) => lines.push(v),
    replace: (v) => lines.splice(0, lines.length, v),
    clear: () => lines.splice(0),
    show: () => stub.calls.executed.push({ id: 'output.show', args: [name] }),
    hide: () => undefined,
    dispose: () => undefined,
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warning'),
    error: log('error'),
  };
}

function webviewPanel(viewType, title, showOptions, options) {
  const receive = new EventEmitter();
  const disposed = new EventEmitter();
  const panel = {
    viewType,
    title,
    options,
    visible: true,
    active: true,
    webview: {
      html: '',
      options,
      cspSource: 'vscode-webview://stub',
      onDidReceiveMessage: receive.event,
      postMessage: () => Promise.resolve(true),
      asWebviewUri: (u) => u,
    },
    reveal: () => undefined,
    onDidDispose: disposed.event,
    onDidChangeViewState: new EventEmitter().event,
    dispose: () => disposed.fire(),
    // For tests: a message from the page.
    receive: (msg) => receive.fire(msg),
  };
  stub.calls.webviews.push(panel);
  return panel;
}

function statusBarItem(id, alignment, priority) {
  const item = { id, alignment, priority, text: '', tooltip: undefined, command: undefined, visible: false, show() { this.visible = true; }, hide() { this.visible = false; }, dispose() {} };
  stub.calls.statusBarItems.push(item);
  return item;
}

const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };

const window = namespace('window', {
  get activeTextEditor() {
    return stub.activeTextEditor;
  },
  get visibleTextEditors() {
    return stub.activeTextEditor ? [stub.activeTextEditor] : [];
  },
  onDidChangeActiveTextEditor: event('window.onDidChangeActiveTextEditor'),
  createOutputChannel: outputChannel,
  createStatusBarItem: statusBarItem,
  createWebviewPanel: webviewPanel,
  showErrorMessage: message('error'),
  showWarningMessage: message('warning'),
  showInformationMessage: message('information'),
  showQuickPick: (items, options) => {
    stub.calls.messages.push({ kind: 'quickPick', items, options });
    const a = stub.answers.quickPick;
    return Promise.resolve(typeof a === 'function' ? a(items) : a);
  },
  showInputBox: (options) => {
    stub.calls.messages.push({ kind: 'inputBox', options });
    return Promise.resolve(stub.answers.inputBox);
  },
  showTextDocument: (doc) => {
    stub.calls.executed.push({ id: 'window.showTextDocument', args: [doc] });
    return Promise.resolve({ document: doc, insertSnippet: (s) => (stub.calls.snippet = s, Promise.resolve(true)) });
  },
  withProgress: (options, task) => {
    stub.calls.notifications.push({ kind: 'progress', options });
    const source = new CancellationTokenSource();
    return Promise.resolve(task({ report: (v) => stub.calls.notifications.push({ kind: 'progress-report', value: v }) }, source.token));
  },
  createTextEditorDecorationType: () => ({ dispose() {} }),
});

const workspace = namespace('workspace', {
  get workspaceFolders() {
    return stub.workspaceFolders;
  },
  get textDocuments() {
    return stub.textDocuments;
  },
  get rootPath() {
    return stub.workspaceFolders && stub.workspaceFolders[0] ? stub.workspaceFolders[0].uri.fsPath : undefined;
  },
  name: 'stub',
  getConfiguration,
  getWorkspaceFolder: () => undefined,
  onDidChangeConfiguration: event('workspace.onDidChangeConfiguration'),
  fs: {
    readFile: (uri) => Promise.resolve(new Uint8Array(fs.readFileSync(uri.fsPath))),
    stat: (uri) => Promise.resolve({ type: 1, size: fs.statSync(uri.fsPath).size }),
  },
  openTextDocument: (arg) =>
    Promise.resolve(
      arg instanceof Uri
        ? stub.textDocuments.find((d) => d.uri.toString() === arg.toString()) || { uri: arg, languageId: 'plaintext', getText: () => '' }
        : { uri: Uri.parse('untitled:Untitled-1'), languageId: arg && arg.language, getText: () => (arg && arg.content) || '' },
    ),
  createFileSystemWatcher: () => ({ onDidCreate: new EventEmitter().event, onDidChange: new EventEmitter().event, onDidDelete: new EventEmitter().event, dispose() {} }),
  applyEdit: () => Promise.resolve(true),
  isTrusted: true,
});

const commands = namespace('commands', {
  registerCommand(id, fn) {
    if (stub.commands.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    stub.commands.set(id, fn);
    return new Disposable(() => stub.commands.delete(id));
  },
  registerTextEditorCommand(id, fn) {
    return commands.registerCommand(id, fn);
  },
  executeCommand(id, ...args) {
    stub.calls.executed.push({ id, args });
    const fn = stub.commands.get(id);
    return fn ? Promise.resolve().then(() => fn(...args)) : Promise.resolve(undefined);
  },
  getCommands: () => Promise.resolve([...stub.commands.keys()]),
});

const languages = namespace('languages', {
  getDiagnostics(uri) {
    return uri ? stub.diagnostics.get(uri.toString()) || [] : [...stub.diagnostics.entries()];
  },
  createDiagnosticCollection(name) {
    const c = new Map();
    return {
      name,
      set(uri, diags) {
        if (Array.isArray(uri)) {
          for (const [u, d] of uri) {
            c.set(u.toString(), d || []);
            stub.diagnostics.set(u.toString(), d || []);
          }
        } else {
          c.set(uri.toString(), diags || []);
          stub.diagnostics.set(uri.toString(), diags || []);
        }
      },
      delete(uri) {
        c.delete(uri.toString());
        stub.diagnostics.delete(uri.toString());
      },
      clear() {
        for (const k of c.keys()) {
          stub.diagnostics.delete(k);
        }
        c.clear();
      },
      get: (uri) => c.get(uri.toString()),
      has: (uri) => c.has(uri.toString()),
      forEach: (fn) => c.forEach((v, k) => fn(Uri.parse(k), v)),
      dispose() {
        this.clear();
      },
    };
  },
  match(selector, doc) {
    const list = Array.isArray(selector) ? selector : [selector];
    return list.some((s) => (typeof s === 'string' ? s === doc.languageId : (!s.language || s.language === doc.languageId) && (!s.scheme || s.scheme === doc.uri.scheme))) ? 10 : 0;
  },
});

const extensions = namespace('extensions', {
  getExtension: (id) => stub.extensions[id],
  get all() {
    return Object.values(stub.extensions);
  },
  onDidChange: event('extensions.onDidChange'),
});

const env = namespace('env', {
  appName: 'Visual Studio Code',
  appRoot: '/stub',
  language: 'en',
  machineId: 'stub',
  sessionId: 'stub',
  uriScheme: 'vscode',
  uiKind: 1,
  clipboard: { writeText: (t) => (stub.calls.clipboard.push(t), Promise.resolve()), readText: () => Promise.resolve('') },
  openExternal: () => Promise.resolve(true),
});

const enums = {
  StatusBarAlignment: { Left: 1, Right: 2 },
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 },
  ConfigurationTarget,
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
  CompletionItemKind: new Proxy({}, { get: (_, k) => (typeof k === 'string' ? k.length : undefined) }),
  SymbolKind: new Proxy({}, { get: (_, k) => (typeof k === 'string' ? k.length : undefined) }),
  CompletionTriggerKind: { Invoke: 0, TriggerCharacter: 1, TriggerForIncompleteCompletions: 2 },
  CodeActionTriggerKind: { Invoke: 1, Automatic: 2 },
  TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
  EndOfLine: { LF: 1, CRLF: 2 },
  FileType: { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 },
  UIKind: { Desktop: 1, Web: 2 },
  LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
  ExtensionMode: { Production: 1, Development: 2, Test: 3 },
  TextEditorRevealType: { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 },
  InlayHintKind: { Type: 1, Parameter: 2 },
  SignatureHelpTriggerKind: { Invoke: 1, TriggerCharacter: 2, ContentChange: 3 },
  DocumentHighlightKind: { Text: 0, Read: 1, Write: 2 },
  NotebookCellKind: { Markup: 1, Code: 2 },
};

const api = {
  ...enums,
  version: '1.82.0',
  Disposable,
  EventEmitter,
  CancellationTokenSource,
  CancellationError: class CancellationError extends Error {},
  Uri,
  Position,
  Range,
  Selection,
  Location,
  Diagnostic,
  DiagnosticRelatedInformation,
  CodeLens,
  MarkdownString,
  ThemeColor,
  ThemeIcon: class ThemeIcon {
    constructor(id) {
      this.id = id;
    }
  },
  SnippetString,
  TextEdit,
  WorkspaceEdit,
  CodeActionKind,
  Command: class Command {},
  window,
  workspace,
  commands,
  languages,
  extensions,
  env,
  l10n: { t: (s, ...args) => String(s).replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)])) },
  __stub: stub,
};

module.exports = new Proxy(api, {
  get(target, prop) {
    if (prop in target) {
      return target[prop];
    }
    if (typeof prop !== 'string' || prop === '__esModule' || prop === 'default' || prop === 'then') {
      return undefined;
    }
    return permissive(prop);
  },
});
