/** The solution view: a webview panel showing the last report of one spec. */

import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { HistoryPoint, Report, solutionModel, ViewOptions } from './report';
import { emptyHtml, solutionHtml, VIEW_ACTIONS } from './solutionHtml';

export const VIEW_TYPE = 'nemo.solution';

export interface SolutionViewHost {
  report(uri: string): Report | undefined;
  history(uri: string): HistoryPoint[];
  options(): ViewOptions;
  /** A button in the view was clicked (`solve`, `openOptimizer`, ...). */
  action(uri: string, command: string): void;
  /** Why there is no report (server state), for the empty page. */
  emptyMessage(uri: string): string;
}

function specName(uri: string): string {
  try {
    const path = vscode.Uri.parse(uri).path;
    return path.slice(path.lastIndexOf('/') + 1) || uri;
  } catch {
    return uri;
  }
}

export class SolutionView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly host: SolutionViewHost) {}

  /** The spec the view shows, if it is open. */
  get shownUri(): string | undefined {
    return this.panel ? this.uri : undefined;
  }

  /** Open (or reveal) the view for `uri`. */
  show(uri: string, preserveFocus = false): void {
    this.uri = uri;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        VIEW_TYPE,
        `Solution: ${specName(uri)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
        { enableScripts: true, enableCommandUris: false, localResourceRoots: [], retainContextWhenHidden: false },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      }, null, this.disposables);
      this.panel.webview.onDidReceiveMessage(
        (msg: unknown) => {
          const command = msg && typeof msg === 'object' ? (msg as { command?: unknown }).command : undefined;
          if (this.uri && typeof command === 'string' && VIEW_ACTIONS.some((a) => a.command === command)) {
            this.host.action(this.uri, command);
          }
        },
        null,
        this.disposables,
      );
    } else {
      this.panel.reveal(undefined, preserveFocus);
    }
    this.render();
  }

  /** Re-render when `uri` is the spec on display. */
  refresh(uri: string): void {
    if (this.panel && this.uri === uri) {
      this.render();
    }
  }

  private render(): void {
    if (!this.panel || !this.uri) {
      return;
    }
    const opts = this.host.options();
    const html = {
      nonce: randomBytes(16).toString('base64'),
      cspSource: this.panel.webview.cspSource,
      nonzeroOnly: opts.nonzeroOnly,
    };
    const report = this.host.report(this.uri);
    this.panel.title = `Solution: ${specName(this.uri)}`;
    this.panel.webview.html = report
      ? solutionHtml(solutionModel(report, opts), this.host.history(this.uri), html)
      : emptyHtml(specName(this.uri), this.host.emptyMessage(this.uri), html);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}
