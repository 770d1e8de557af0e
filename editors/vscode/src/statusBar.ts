/** The status bar item: the last result of the active spec. */

import * as vscode from 'vscode';
import { CLIENT_COMMANDS } from './commands';
import { Level, StatusModel } from './report';

export const LANGUAGE_ID = 'optmd';

export class NemoStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly states = new Map<string, StatusModel>();
  private server: { text: string; detail: string; level: Level } | undefined;
  private enabled = true;

  constructor() {
    this.item = vscode.window.createStatusBarItem('nemo.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Nemo';
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  /** The state of one spec (by URI string). */
  set(uri: string, model: StatusModel): void {
    this.states.set(uri, model);
    this.render();
  }

  get(uri: string): StatusModel | undefined {
    return this.states.get(uri);
  }

  /** A server-wide problem (not running, starting); undefined clears it. */
  setServer(state: { text: string; detail: string; level: Level } | undefined): void {
    this.server = state;
    this.render();
  }

  render(): void {
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document;
    if (!this.enabled || !doc || doc.languageId !== LANGUAGE_ID) {
      this.item.hide();
      return;
    }
    const tooltip = new vscode.MarkdownString(undefined, true);
    if (this.server) {
      this.item.text = this.server.text;
      tooltip.appendText(this.server.detail);
      tooltip.appendMarkdown('\n\nClick to show the output.');
      this.item.tooltip = tooltip;
      this.item.command = CLIENT_COMMANDS.showOutput;
      this.item.backgroundColor = this.server.level === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
      this.item.show();
      return;
    }
    const state = this.states.get(doc.uri.toString());
    this.item.text = state ? state.text : '$(circle-outline) nemo';
    tooltip.appendText(state ? state.summary : 'not run yet: save the spec or run "Nemo: Solve"');
    tooltip.appendMarkdown('\n\nClick to show the solution.');
    this.item.tooltip = tooltip;
    this.item.command = CLIENT_COMMANDS.showSolution;
    this.item.backgroundColor =
      state?.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : state?.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
