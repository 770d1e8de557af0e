/**
 * Command ids. Pure module (no `vscode` import) so tests can check it against the server and
 * package.json.
 *
 * The server offers its commands through `workspace/executeCommand` (ids in
 * nemo_lsp/server/actions.py::COMMANDS); vscode-languageclient registers those ids as VS Code
 * commands while the server runs (code lenses and code actions use them). The palette commands
 * below have their own ids, so they exist before the server has started and never collide with
 * the ones the client registers.
 */

/** The server's command ids (each takes the spec's URI; repairs also take a finding id). */
export const SERVER_COMMANDS = {
  solve: 'nemo.solve',
  regenerate: 'nemo.regenerate',
  repairOptimizer: 'nemo.repairOptimizer',
  repairSimulator: 'nemo.repairSimulator',
  openOptimizer: 'nemo.openOptimizer',
  openSimulator: 'nemo.openSimulator',
  openLog: 'nemo.openLog',
  showReport: 'nemo.showReport',
  consolidate: 'nemo.consolidate',
  openCandidate: 'nemo.openCandidate',
  saveToMemory: 'nemo.saveToMemory',
} as const;

export type ServerCommandName = keyof typeof SERVER_COMMANDS;
export type ServerCommandId = (typeof SERVER_COMMANDS)[ServerCommandName];

/** Palette commands that run a server command on the active spec. */
export const FORWARDED_COMMANDS: Readonly<Record<string, ServerCommandName>> = {
  'nemo.run.solve': 'solve',
  'nemo.run.regenerate': 'regenerate',
  'nemo.run.repairOptimizer': 'repairOptimizer',
  'nemo.run.repairSimulator': 'repairSimulator',
  'nemo.run.consolidate': 'consolidate',
  'nemo.open.optimizer': 'openOptimizer',
  'nemo.open.simulator': 'openSimulator',
  'nemo.open.log': 'openLog',
};

/** Commands handled by the extension itself. */
export const CLIENT_COMMANDS = {
  newProblem: 'nemo.newProblem',
  showSolution: 'nemo.showSolution',
  selectAgent: 'nemo.selectAgent',
  restartServer: 'nemo.restartServer',
  showOutput: 'nemo.showOutput',
} as const;

/** Every command id the extension contributes (package.json `contributes.commands`). */
export function contributedCommandIds(): string[] {
  return [...Object.keys(FORWARDED_COMMANDS), ...Object.values(CLIENT_COMMANDS)];
}

/** Every server command id the extension sends or intercepts. */
export function serverCommandIds(): string[] {
  return Object.values(SERVER_COMMANDS);
}

export function isServerCommand(id: string): id is ServerCommandId {
  return (Object.values(SERVER_COMMANDS) as string[]).includes(id);
}
