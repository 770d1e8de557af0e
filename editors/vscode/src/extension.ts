/**
 * nemo-lsp for VS Code: starts the language server for `*.opt.md` specs (language `optmd`) and
 * adds what an editor shows around it: commands, a status bar item with the active spec's last
 * result, a solution view (table, bar chart, objective history) and an output channel.
 *
 * The logic that can be tested without VS Code lives in pure modules (commands, settings,
 * serverCommand, report, solutionHtml, snippets); this file wires them to the `vscode` API and
 * to vscode-languageclient.
 */

import * as path from 'path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  NotificationHandler,
  ProgressType,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  WorkDoneProgress,
} from 'vscode-languageclient/node';
import {
  CLIENT_COMMANDS,
  FORWARDED_COMMANDS,
  isServerCommand,
  SERVER_COMMANDS,
  ServerCommandId,
  ServerCommandName,
} from './commands';
import { executableExists, onPythonChanged, probePython, selectedPython } from './python';
import {
  asReport,
  DEFAULT_VIEW_OPTIONS,
  Report,
  ReportStore,
  statusFromLensTitle,
  statusFromReport,
  statusRunning,
  ViewOptions,
} from './report';
import { installCommand, resolveServer, ServerCommand, shellJoin } from './serverCommand';
import { serverSettings, SERVER_SETTINGS } from './settings';
import { snippetBody, SNIPPETS_FILE } from './snippets';
import { SolutionView } from './solutionView';
import { LANGUAGE_ID, NemoStatusBar } from './statusBar';

const SECTION = 'nemo';

/** Agents the quick pick offers (the server knows these; more arrive with the agent backends). */
export const AGENTS: readonly { name: string; detail: string }[] = [
  { name: 'formal', detail: "Compiles the spec's model block; offline, no coding agent needed" },
];

/** A LanguageClient that also tells the extension about work-done progress (runs). */
class NemoLanguageClient extends LanguageClient {
  progressListener: ((token: string | number, value: unknown) => void) | undefined;

  override onProgress<P>(type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): vscode.Disposable {
    return super.onProgress(type, token, (value: P) => {
      handler(value);
      if (type === (WorkDoneProgress.type as unknown)) {
        try {
          this.progressListener?.(token, value);
        } catch {
          // the status bar is a nicety; never break the client's progress
        }
      }
    });
  }
}

interface ProgressValue {
  kind?: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

class NemoExtension implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly store = new ReportStore();
  private readonly status: NemoStatusBar;
  private readonly view: SolutionView;
  private client: NemoLanguageClient | undefined;
  private server: ServerCommand | undefined;
  private starting: Promise<void> | undefined;
  private startProblem: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Listeners of the current client, dropped on restart. */
  private readonly clientDisposables: vscode.Disposable[] = [];
  /** Progress token -> the specs (URI strings) that run belongs to. */
  private readonly runs = new Map<string | number, string[]>();
  /** Last outcome-lens title per spec, to notice a new run. */
  private readonly lensTitles = new Map<string, string>();
  /** Set by deactivate(): a start still under way must not start a server or show messages. */
  private disposed = false;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Nemo', { log: true });
    this.status = new NemoStatusBar();
    this.view = new SolutionView({
      report: (uri) => this.store.report(uri),
      history: (uri) => this.store.history(uri),
      options: () => this.viewOptions(),
      action: (uri, command) => void this.viewAction(uri, command),
      emptyMessage: () =>
        this.startProblem
          ? `The language server is not running: ${this.startProblem}`
          : 'No run yet for this spec in this session: save it (the server solves on save) or click "Solve again".',
    });
    this.disposables.push(this.output, this.status, this.view);
  }

  // --- activation ------------------------------------------------------------------------------

  activate(): void {
    const reg = (id: string, fn: (...args: any[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    for (const [id, name] of Object.entries(FORWARDED_COMMANDS)) {
      reg(id, (arg?: unknown) => this.forward(name, arg));
    }
    reg(CLIENT_COMMANDS.newProblem, () => this.newProblem());
    reg(CLIENT_COMMANDS.showSolution, (arg?: unknown) => this.showSolution(arg));
    reg(CLIENT_COMMANDS.selectAgent, () => this.selectAgent());
    reg(CLIENT_COMMANDS.restartServer, () => this.restart());
    reg(CLIENT_COMMANDS.showOutput, () => this.output.show());

    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfiguration(e)),
    );
    this.status.setEnabled(this.config().get<boolean>('statusBar.enabled', true));
    void onPythonChanged(this.output, () => {
      if (this.server?.source !== 'setting') {
        this.output.info('the Python interpreter changed: restarting nemo-lsp');
        void this.restart();
      }
    }).then((d) => d && this.disposables.push(d));
    void this.start();
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  private viewOptions(): ViewOptions {
    const c = this.config();
    return {
      nonzeroOnly: c.get<boolean>('solution.nonzeroOnly', DEFAULT_VIEW_OPTIONS.nonzeroOnly),
      maxBars: c.get<number>('solution.maxBars', DEFAULT_VIEW_OPTIONS.maxBars),
    };
  }

  private serverSettings() {
    const c = this.config();
    const result = serverSettings((key) => c.inspect(key));
    for (const p of result.problems) {
      this.output.warn(p);
    }
    return result.settings;
  }

  // --- the language server ---------------------------------------------------------------------

  start(): Promise<void> {
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.startProblem = undefined;
    this.status.setServer({ text: '$(sync~spin) nemo', detail: 'starting nemo-lsp', level: 'running' });
    const folder = vscode.workspace.workspaceFolders?.[0];
    const cwd = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    const configured = this.config().get<unknown>('server.command');
    const resolution = await resolveServer(
      {
        configured,
        extensionPython: configured && (configured as unknown[]).length ? undefined : await selectedPython(this.output, folder?.uri),
        platform: process.platform,
      },
      (python) => probePython(python, cwd),
    );
    if (this.disposed) {
      return;
    }
    for (const line of resolution.log) {
      this.output.info(line);
    }
    if (!resolution.ok) {
      this.failStart(resolution.error.message, resolution.error.installCommand);
      return;
    }
    if (resolution.server.source === 'setting' && !executableExists(resolution.server.command)) {
      this.failStart(
        `\`${resolution.server.command}\` (nemo.server.command) was not found. Fix the setting, or install the server with \`${installCommand(undefined)}\`.`,
        installCommand(undefined),
      );
      return;
    }
    this.server = resolution.server;
    const exe = { command: resolution.server.command, args: resolution.server.args, options: { cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } } };
    const serverOptions: ServerOptions = { run: exe, debug: exe };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: LANGUAGE_ID }],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: this.serverSettings(),
      middleware: {
        executeCommand: (command, args, next) =>
          isServerCommand(command) ? this.execute(command, args, (c, a) => Promise.resolve(next(c, a))) : next(command, args),
        provideCodeLenses: async (document, token, next) => {
          const lenses = await next(document, token);
          this.onLenses(document.uri.toString(), lenses ?? []);
          return lenses;
        },
      },
    };
    const client = new NemoLanguageClient('nemo', 'Nemo', serverOptions, clientOptions);
    client.progressListener = (token, value) => this.onProgress(token, value as ProgressValue);
    this.clientDisposables.push(
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) {
          this.status.setServer(undefined);
        } else if (e.newState === State.Stopped && this.client === client && !this.starting) {
          this.status.setServer({ text: '$(error) nemo', detail: 'nemo-lsp stopped (see the output)', level: 'error' });
        }
      }),
    );
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      this.client = undefined;
      if (this.disposed) {
        return;
      }
      const what = shellJoin([resolution.server.command, ...resolution.server.args]);
      this.failStart(`nemo-lsp did not start with \`${what}\`: ${err instanceof Error ? err.message : String(err)}`, undefined);
      return;
    }
    const version = client.initializeResult?.serverInfo?.version;
    this.output.info(`nemo-lsp ${version ?? ''} running (${shellJoin([resolution.server.command, ...resolution.server.args])})`);
    this.status.setServer(undefined);
    this.onActiveEditor(vscode.window.activeTextEditor);
  }

  private failStart(message: string, install: string | undefined): void {
    this.startProblem = message;
    this.output.error(message);
    this.status.setServer({ text: '$(error) nemo', detail: message, level: 'error' });
    const buttons = ['Open Settings', ...(install ? ['Copy Install Command'] : []), 'Show Output'];
    void vscode.window.showErrorMessage(`Nemo: ${message}`, ...buttons).then(async (choice) => {
      if (choice === 'Open Settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'nemo.server.command');
      } else if (choice === 'Copy Install Command' && install) {
        await vscode.env.clipboard.writeText(install);
        void vscode.window.showInformationMessage(`Copied \`${install}\`: run it in a terminal, then "Nemo: Restart Server".`);
      } else if (choice === 'Show Output') {
        this.output.show();
      }
    });
  }

  async restart(): Promise<void> {
    if (this.starting) {
      await this.starting;
    }
    const old = this.client;
    this.client = undefined;
    this.server = undefined;
    if (old) {
      this.output.info('restarting nemo-lsp');
      try {
        await old.dispose(); // stops the server, then drops the client's registrations
      } catch (err) {
        this.output.warn(`stopping nemo-lsp: ${String(err)}`);
      }
    }
    for (const d of this.clientDisposables.splice(0)) {
      d.dispose();
    }
    this.runs.clear();
    this.lensTitles.clear();
    await this.start();
  }

  private running(): NemoLanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  /** A server command sent directly (not through VS Code's command, so no view opens). */
  private async request(command: ServerCommandId, args: unknown[]): Promise<unknown> {
    const client = this.running();
    if (!client) {
      throw new Error('nemo-lsp is not running');
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** Every nemo command goes through here: from the palette, a lens, a code action, the view. */
  private async execute(command: ServerCommandId, args: unknown[], send: (c: string, a: unknown[]) => Promise<unknown>): Promise<unknown> {
    const uri = typeof args[0] === 'string' ? args[0] : undefined;
    if (command === SERVER_COMMANDS.showReport) {
      const report = asReport(await send(command, args));
      if (uri) {
        this.record(uri, report);
        this.view.show(uri);
      }
      return report;
    }
    const starts = command === SERVER_COMMANDS.solve || command === SERVER_COMMANDS.regenerate;
    if (starts && uri) {
      this.status.set(uri, statusRunning());
    }
    const result = await send(command, args);
    const r = result as { started?: boolean; reason?: string } | null;
    if (starts && r && r.started === false) {
      void vscode.window.showWarningMessage(`Nemo: ${r.reason ?? 'the run did not start'}`);
      if (uri) {
        this.status.set(uri, statusFromReport(this.store.report(uri) ?? null));
      }
    }
    // open*/repair*: the server opens the file (window/showDocument) or says why not (window/showMessage).
    return result;
  }

  // --- reports, progress, lenses ---------------------------------------------------------------

  private record(uri: string, report: Report | null): void {
    const isNew = this.store.record(uri, report);
    this.status.set(uri, statusFromReport(report ?? this.store.report(uri) ?? null));
    this.view.refresh(uri);
    if (isNew && report && this.config().get<boolean>('solution.openAfterRun', false) && this.view.shownUri !== uri) {
      const active = vscode.window.activeTextEditor?.document.uri.toString();
      if (active === uri) {
        this.view.show(uri, true);
      }
    }
  }

  private async fetchReport(uri: string): Promise<void> {
    try {
      this.record(uri, asReport(await this.request(SERVER_COMMANDS.showReport, [uri])));
    } catch (err) {
      this.output.debug(`nemo.showReport for ${uri}: ${String(err)}`);
    }
  }

  private specsNamed(name: string): string[] {
    return vscode.workspace.textDocuments
      .filter((d) => d.languageId === LANGUAGE_ID && path.basename(d.uri.fsPath) === name)
      .map((d) => d.uri.toString());
  }

  /** Work-done progress of a run: `nemo: solving NAME.opt.md`, stage messages, the outcome. */
  private onProgress(token: string | number, value: ProgressValue): void {
    if (value.kind === 'begin') {
      const m = /^nemo: solving (.+)$/.exec(value.title ?? '');
      if (m) {
        this.runs.set(token, this.specsNamed(m[1]));
      }
    }
    const uris = this.runs.get(token);
    if (!uris) {
      return;
    }
    if (value.kind === 'end') {
      this.runs.delete(token);
      this.output.info(`run ended: ${value.message ?? ''}`);
      for (const uri of uris) {
        void this.fetchReport(uri);
      }
      return;
    }
    for (const uri of uris) {
      this.status.set(uri, statusRunning(value.message, value.percentage));
    }
  }

  /** The outcome lens (`optimal · objective 97 · validated · 0.8 s`) tells about a new run too. */
  private onLenses(uri: string, lenses: vscode.CodeLens[]): void {
    for (const lens of lenses) {
      const cmd = lens.command;
      if (!cmd) {
        continue;
      }
      if (cmd.command === SERVER_COMMANDS.solve && /solving/.test(cmd.title)) {
        if (this.status.get(uri)?.level !== 'running') {
          this.status.set(uri, statusRunning());
        }
        return;
      }
      if (cmd.command === SERVER_COMMANDS.showReport && cmd.title.includes(' · ')) {
        if (this.lensTitles.get(uri) !== cmd.title) {
          this.lensTitles.set(uri, cmd.title);
          const fromLens = statusFromLensTitle(cmd.title);
          if (fromLens) {
            this.status.set(uri, fromLens);
          }
          void this.fetchReport(uri);
        }
        return;
      }
    }
  }

  private onActiveEditor(editor: vscode.TextEditor | undefined): void {
    this.status.render();
    const doc = editor?.document;
    if (doc && doc.languageId === LANGUAGE_ID && doc.uri.scheme === 'file' && !this.status.get(doc.uri.toString())) {
      void this.fetchReport(doc.uri.toString());
    }
  }

  private onConfiguration(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) {
      return;
    }
    if (e.affectsConfiguration('nemo.server.command')) {
      this.output.info('nemo.server.command changed: restarting nemo-lsp');
      void this.restart();
      return;
    }
    if (e.affectsConfiguration('nemo.statusBar.enabled')) {
      this.status.setEnabled(this.config().get<boolean>('statusBar.enabled', true));
    }
    if (e.affectsConfiguration('nemo.solution')) {
      const uri = this.view.shownUri;
      if (uri) {
        this.view.refresh(uri);
      }
    }
    if (SERVER_SETTINGS.some((s) => e.affectsConfiguration(`nemo.${s.key}`))) {
      const client = this.running();
      const settings = this.serverSettings();
      this.output.info(`server settings: ${JSON.stringify(settings.nemo)}`);
      if (client) {
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings });
      }
      if (e.affectsConfiguration('nemo.watchFiles')) {
        void vscode.window
          .showInformationMessage('Nemo: nemo.watchFiles takes effect when the server restarts.', 'Restart Server')
          .then((c) => c && this.restart());
      }
    }
  }

  // --- commands ----------------------------------------------------------------------------------

  /** The spec a command is about: its argument (explorer, editor title), else the active editor. */
  private specUri(arg: unknown): vscode.Uri | undefined {
    if (arg instanceof vscode.Uri) {
      return arg;
    }
    if (typeof arg === 'string') {
      return vscode.Uri.parse(arg);
    }
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && doc.languageId === LANGUAGE_ID) {
      return doc.uri;
    }
    const shown = this.view.shownUri;
    return shown ? vscode.Uri.parse(shown) : undefined;
  }

  private needSpec(arg: unknown): vscode.Uri | undefined {
    const uri = this.specUri(arg);
    if (!uri) {
      void vscode.window.showInformationMessage('Nemo: open an .opt.md spec first.');
      return undefined;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Nemo: save the spec as NAME.opt.md first.');
      return undefined;
    }
    return uri;
  }

  private async needServer(): Promise<boolean> {
    if (this.starting) {
      await this.starting;
    }
    if (this.running()) {
      return true;
    }
    const choice = await vscode.window.showWarningMessage(
      `Nemo: the language server is not running${this.startProblem ? `: ${this.startProblem}` : ''}.`,
      'Restart Server',
      'Show Output',
    );
    if (choice === 'Restart Server') {
      await this.restart();
    } else if (choice === 'Show Output') {
      this.output.show();
    }
    return false;
  }

  /** A finding id for repairs: the nemo diagnostic under the cursor, else the first one. */
  private findingId(uri: vscode.Uri): string | undefined {
    const diagnostics = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'nemo');
    const editor = vscode.window.activeTextEditor;
    const cursor = editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active : undefined;
    const at = cursor ? diagnostics.find((d) => d.range.contains(cursor)) : undefined;
    const d = (at ?? diagnostics[0]) as (vscode.Diagnostic & { data?: { id?: unknown } }) | undefined;
    return typeof d?.data?.id === 'string' ? d.data.id : undefined;
  }

  private async forward(name: ServerCommandName, arg: unknown): Promise<unknown> {
    const uri = this.needSpec(arg);
    if (!uri || !(await this.needServer())) {
      return undefined;
    }
    const args: unknown[] = [uri.toString()];
    if (name === 'repairOptimizer' || name === 'repairSimulator') {
      const id = this.findingId(uri);
      if (id) {
        args.push(id);
      }
    }
    try {
      return await this.execute(SERVER_COMMANDS[name], args, (c, a) => this.request(c as ServerCommandId, a));
    } catch (err) {
      void vscode.window.showErrorMessage(`Nemo: ${SERVER_COMMANDS[name]} failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private async showSolution(arg: unknown): Promise<void> {
    const uri = this.specUri(arg);
    if (!uri) {
      void vscode.window.showInformationMessage('Nemo: open an .opt.md spec to see its solution.');
      return;
    }
    const key = uri.toString();
    if (this.running()) {
      await this.fetchReport(key);
    }
    this.view.show(key);
  }

  private async viewAction(uri: string, command: string): Promise<void> {
    if (command === 'openSpec') {
      await vscode.window.showTextDocument(vscode.Uri.parse(uri), { viewColumn: vscode.ViewColumn.One });
      return;
    }
    const name = command as ServerCommandName;
    if (name in SERVER_COMMANDS) {
      await this.forward(name, uri);
    }
  }

  private async newProblem(): Promise<void> {
    let body: string;
    try {
      const file = vscode.Uri.joinPath(this.context.extensionUri, SNIPPETS_FILE);
      body = snippetBody(JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(file)).toString('utf8')));
    } catch (err) {
      void vscode.window.showErrorMessage(`Nemo: cannot read the spec template: ${String(err)}`);
      return;
    }
    const doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: '' });
    const editor = await vscode.window.showTextDocument(doc);
    await editor.insertSnippet(new vscode.SnippetString(body));
    void vscode.window.showInformationMessage('Nemo: save the new spec as NAME.opt.md; the server lints it and solves it on save.');
  }

  private async selectAgent(): Promise<void> {
    const current = this.config().get<string>('agent', '') || '';
    type Item = vscode.QuickPickItem & { value: string | undefined | null };
    const items: Item[] = [
      {
        label: 'Default',
        description: current === '' ? '(current)' : undefined,
        detail: "The spec's `agent:` front matter, else [tool.nemo] in pyproject.toml, else `formal` when the spec has a model block",
        value: undefined,
      },
      ...AGENTS.map((a) => ({ label: a.name, description: current === a.name ? '(current)' : undefined, detail: a.detail, value: a.name })),
      { label: 'Other…', detail: 'Type the name of an agent the server knows', value: null },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Nemo: coding agent for specs that name none', matchOnDetail: true });
    if (!pick) {
      return;
    }
    let value = pick.value;
    if (value === null) {
      const typed = await vscode.window.showInputBox({ title: 'Nemo: agent name', value: current, prompt: 'e.g. formal' });
      if (typed === undefined) {
        return;
      }
      value = typed.trim() || undefined;
    }
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.config().update('agent', value, target);
    this.output.info(`nemo.agent = ${value ?? '(default)'} (${target === vscode.ConfigurationTarget.Workspace ? 'workspace' : 'user'} settings)`);
  }

  async deactivate(): Promise<void> {
    this.disposed = true;
    if (this.starting) {
      await this.starting.catch(() => undefined);
    }
    const client = this.client;
    this.client = undefined;
    if (client) {
      // Before the output channel goes away: the client logs while it stops.
      await client.stop().catch(() => undefined);
    }
    for (const d of [...this.clientDisposables.splice(0), ...this.disposables.splice(0)]) {
      try {
        d.dispose();
      } catch {
        // shutting down
      }
    }
  }

  dispose(): void {
    void this.deactivate();
  }
}

let extension: NemoExtension | undefined;

export function activate(context: vscode.ExtensionContext): void {
  extension = new NemoExtension(context);
  extension.activate();
}

export function deactivate(): Thenable<void> | undefined {
  const e = extension;
  extension = undefined;
  return e?.deactivate();
}
