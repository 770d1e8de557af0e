/**
 * The server's run report (the JSON `nemo.showReport` returns) and what the extension derives
 * from it: the status bar text, the solution view's table and chart, the objective history.
 * Pure module.
 */

export interface Finding {
  code?: string;
  severity?: string;
  message?: string;
  span?: { line: number; col: number; end_line: number; end_col: number } | null;
}

export type Decision = Array<Array<string | number | null>> | number | null;

export interface Report {
  spec?: string;
  outcome?: string;
  ok?: boolean;
  agent?: string | null;
  status?: string | null;
  objective?: number | null;
  solution?: {
    status?: string;
    objective?: number | null;
    sense?: string | null;
    bound?: number | null;
    decisions?: Record<string, Decision> | null;
    solver?: string | null;
    solver_version?: string | null;
    timing?: Record<string, number>;
  } | null;
  validation?: {
    feasible?: boolean;
    objective?: number | null;
    violations?: unknown[];
    checked?: number;
    slack?: Record<string, number>;
  } | null;
  expect?: { objective?: number; status?: string; source?: string } | null;
  findings?: Finding[];
  files?: Record<string, string>;
  generated?: Record<string, string>;
  timings?: Record<string, number>;
  isolation?: string | null;
}

/** A report as JSON from the server: an object with an `outcome`, else null. */
export function asReport(value: unknown): Report | null {
  return value && typeof value === 'object' && !Array.isArray(value) && typeof (value as Report).outcome === 'string'
    ? (value as Report)
    : null;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Numbers as the server's lenses print them: integers plainly, else 6 significant digits. */
export function formatNumber(v: unknown): string {
  if (!isNum(v)) {
    return v === null || v === undefined ? '' : String(v);
  }
  if (Math.abs(v - Math.round(v)) < 1e-9) {
    const r = Math.round(v);
    return Object.is(r, -0) ? '0' : String(r);
  }
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e');
    const n = Number(e);
    return `${m.replace(/\.?0+$/, '')}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(Number(v.toPrecision(6)));
}

export function formatSeconds(v: unknown): string {
  return isNum(v) ? `${v.toFixed(v < 10 ? 1 : 0)} s` : '';
}

/** How an outcome reads, and whether it is good news. */
export function outcomeLabel(outcome: string | undefined): string {
  switch (outcome) {
    case 'validated':
      return 'validated';
    case 'expected':
      return 'as expected';
    case 'not_run':
      return 'not run';
    default:
      return (outcome ?? 'unknown').replace(/_/g, ' ');
  }
}

export type Level = 'ok' | 'warning' | 'error' | 'running' | 'none';

export interface StatusModel {
  /** Status bar text, with a codicon, e.g. `$(pass) 97 · validated`. */
  text: string;
  /** Plain one-line summary (tooltip's first line, history). */
  summary: string;
  level: Level;
}

function icon(level: Level): string {
  return { ok: '$(pass)', warning: '$(warning)', error: '$(error)', running: '$(sync~spin)', none: '$(circle-outline)' }[level];
}

export function levelOf(report: Report): Level {
  if (report.outcome === 'validated' || report.outcome === 'expected') {
    return report.ok === false ? 'warning' : 'ok';
  }
  if (report.outcome === 'error' || report.outcome === 'rejected') {
    return 'error';
  }
  return 'warning';
}

/** The status bar for a spec's last run. */
export function statusFromReport(report: Report | null): StatusModel {
  if (!report) {
    return { text: `${icon('none')} nemo`, summary: 'not run yet: save the spec or run "Nemo: Solve"', level: 'none' };
  }
  const level = levelOf(report);
  const parts: string[] = [];
  const status = report.solution?.status ?? report.status;
  if (status && status !== 'optimal') {
    parts.push(status.replace(/_/g, ' '));
  }
  const obj = report.solution?.objective ?? report.objective;
  if (isNum(obj)) {
    parts.push(formatNumber(obj));
  }
  parts.push(outcomeLabel(report.outcome));
  const summary = [
    status ?? outcomeLabel(report.outcome),
    isNum(obj) ? `objective ${formatNumber(obj)}` : '',
    outcomeLabel(report.outcome),
    formatSeconds(report.timings?.total),
  ].filter(Boolean).join(' · ');
  return { text: `${icon(level)} ${parts.join(' · ')}`, summary, level };
}

export function statusRunning(message?: string, percentage?: number): StatusModel {
  const pct = isNum(percentage) ? ` ${Math.round(percentage)}%` : '';
  return { text: `${icon('running')} nemo${pct}`, summary: `solving${message ? `: ${message}` : ''}${pct}`, level: 'running' };
}

/**
 * The outcome lens's title (`optimal · objective 97 · validated · 0.8 s`), as a status. The
 * server puts it on the spec's title line with the command nemo.showReport; slack lenses use
 * the same command but have no ` · `.
 */
export function statusFromLensTitle(title: string): StatusModel | null {
  if (/solving\.\.\./.test(title)) {
    return statusRunning();
  }
  const parts = title.split(' · ').map((s) => s.trim());
  if (parts.length < 2) {
    return null;
  }
  const [status, ...rest] = parts;
  const objPart = rest.find((p) => p.startsWith('objective '));
  const outcome = rest.find((p) => !p.startsWith('objective ') && !/^\d+(\.\d+)? s$/.test(p)) ?? status;
  // A result the server restored from its stored report after a restart reads `validated (last run)`.
  const verdict = outcome.replace(/ \(last run\)$/, '');
  const level: Level = verdict === 'validated' || verdict === 'as expected' ? 'ok' : verdict === 'rejected' || verdict === 'error' ? 'error' : 'warning';
  const shown = [status !== 'optimal' && status !== verdict ? status : '', objPart ? objPart.slice('objective '.length) : '', outcome]
    .filter(Boolean)
    .join(' · ');
  return { text: `${icon(level)} ${shown}`, summary: title, level };
}

// --- the solution view's model ------------------------------------------------------------------

export interface Row {
  index: string[];
  value: number | null;
}

export interface Bar {
  label: string;
  value: number;
}

export interface VariableModel {
  name: string;
  /** Index columns (0 for a scalar variable). */
  arity: number;
  rows: Row[];
  /** Rows shown in the table (all, or the nonzero ones). */
  shown: Row[];
  /** Bars of the chart (nonzero values, at most maxBars). */
  bars: Bar[];
  /** Nonzero values not drawn because of maxBars. */
  barsOmitted: number;
  nonzero: number;
}

export interface SlackRow {
  name: string;
  slack: number;
  state: 'tight' | 'slack' | 'violated';
}

export interface SolutionModel {
  title: string;
  outcome: string;
  level: Level;
  summary: { label: string; value: string }[];
  variables: VariableModel[];
  slack: SlackRow[];
  findings: { severity: string; code: string; message: string; line?: number }[];
}

export interface ViewOptions {
  nonzeroOnly: boolean;
  maxBars: number;
  /** |value| below this counts as zero. */
  zeroTolerance?: number;
}

export const DEFAULT_VIEW_OPTIONS: ViewOptions = { nonzeroOnly: true, maxBars: 40, zeroTolerance: 1e-9 };

function basename(path: string | undefined): string {
  if (!path) {
    return 'spec';
  }
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** A variable's values from the report's `decisions`. */
export function variableRows(value: Decision | undefined): { arity: number; rows: Row[] } {
  if (value === null || value === undefined || isNum(value)) {
    return { arity: 0, rows: [{ index: [], value: isNum(value) ? value : null }] };
  }
  if (!Array.isArray(value)) {
    return { arity: 0, rows: [] };
  }
  const rows: Row[] = [];
  let arity = 0;
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length === 0) {
      continue;
    }
    const v = entry[entry.length - 1];
    const index = entry.slice(0, -1).map((p) => (isNum(p) ? formatNumber(p) : String(p)));
    arity = Math.max(arity, index.length);
    rows.push({ index, value: isNum(v) ? v : null });
  }
  return { arity, rows };
}

export function solutionModel(report: Report, options: Partial<ViewOptions> = {}): SolutionModel {
  const opts = { ...DEFAULT_VIEW_OPTIONS, ...options };
  const tol = opts.zeroTolerance ?? 1e-9;
  const maxBars = Math.max(1, Math.floor(opts.maxBars));
  const sol = report.solution ?? undefined;
  const status = statusFromReport(report);
  const summary: { label: string; value: string }[] = [];
  const add = (label: string, value: string | undefined | null) => {
    if (value) {
      summary.push({ label, value });
    }
  };
  add('outcome', outcomeLabel(report.outcome));
  add('status', sol?.status ?? report.status ?? undefined);
  const obj = sol?.objective ?? report.objective;
  add('objective', isNum(obj) ? `${formatNumber(obj)}${sol?.sense ? ` (${sol.sense})` : ''}` : undefined);
  if (isNum(sol?.bound) && isNum(obj) && Math.abs((sol!.bound as number) - obj) > 1e-9 * Math.max(1, Math.abs(obj))) {
    add('bound', formatNumber(sol!.bound));
  }
  const val = report.validation ?? undefined;
  if (val) {
    const checks = isNum(val.checked) ? `, ${val.checked} checks` : '';
    const sim = isNum(val.objective) ? `; simulator objective ${formatNumber(val.objective)}` : '';
    add('validation', `${val.feasible ? 'feasible' : 'infeasible'}${checks}${sim}`);
  }
  if (report.expect) {
    const e = report.expect;
    add('expected', [isNum(e.objective) ? formatNumber(e.objective) : e.status, e.source ? `(${e.source})` : ''].filter(Boolean).join(' '));
  }
  add('agent', report.agent ?? undefined);
  add('solver', sol?.solver ? `${sol.solver}${sol.solver_version ? ` ${sol.solver_version}` : ''}` : undefined);
  add('time', formatSeconds(report.timings?.total));

  const variables: VariableModel[] = [];
  const decisions = sol?.decisions ?? {};
  for (const name of Object.keys(decisions)) {
    const { arity, rows } = variableRows(decisions[name]);
    const nonzeroRows = rows.filter((r) => r.value !== null && Math.abs(r.value) > tol);
    const shown = opts.nonzeroOnly ? nonzeroRows : rows;
    const bars = nonzeroRows.slice(0, maxBars).map((r) => ({ label: r.index.length ? r.index.join(', ') : name, value: r.value as number }));
    variables.push({ name, arity, rows, shown, bars, barsOmitted: Math.max(0, nonzeroRows.length - bars.length), nonzero: nonzeroRows.length });
  }

  const slack: SlackRow[] = Object.entries(val?.slack ?? {})
    .filter(([, s]) => isNum(s))
    .map(([name, s]) => ({ name, slack: s, state: s < -tol ? 'violated' : Math.abs(s) <= tol ? 'tight' : 'slack' }));

  const findings = (report.findings ?? []).map((f) => ({
    severity: f.severity ?? 'info',
    code: f.code ?? '',
    message: f.message ?? '',
    line: f.span ? f.span.line + 1 : undefined,
  }));

  return { title: basename(report.spec), outcome: outcomeLabel(report.outcome), level: status.level, summary, variables, slack, findings };
}

// --- the objective history over runs in this session ----------------------------------------------

export interface HistoryPoint {
  run: number;
  /** Date.now() when the report was first seen. */
  time: number;
  objective: number | null;
  outcome: string;
  level: Level;
}

/** A signature for "the same run": reports carry no run id, but their timings differ per run. */
export function runSignature(report: Report): string {
  return JSON.stringify([report.outcome, report.objective ?? null, report.timings ?? {}, report.solution?.timing ?? {}]);
}

/** The last report and the history of each spec (by URI string), for this session. */
export class ReportStore {
  private readonly last = new Map<string, Report>();
  private readonly signatures = new Map<string, string>();
  private readonly histories = new Map<string, HistoryPoint[]>();

  constructor(private readonly limit = 200, private readonly now: () => number = () => Date.now()) {}

  /** Record a report; returns true when it is a run not seen before. */
  record(uri: string, report: Report | null): boolean {
    if (!report) {
      return false;
    }
    this.last.set(uri, report);
    const sig = runSignature(report);
    if (this.signatures.get(uri) === sig) {
      return false;
    }
    this.signatures.set(uri, sig);
    const history = this.histories.get(uri) ?? [];
    const objective = report.solution?.objective ?? report.objective ?? null;
    history.push({
      run: (history.length ? history[history.length - 1].run : 0) + 1,
      time: this.now(),
      objective: isNum(objective) ? objective : null,
      outcome: report.outcome ?? 'unknown',
      level: levelOf(report),
    });
    if (history.length > this.limit) {
      history.splice(0, history.length - this.limit);
    }
    this.histories.set(uri, history);
    return true;
  }

  report(uri: string): Report | undefined {
    return this.last.get(uri);
  }

  history(uri: string): HistoryPoint[] {
    return [...(this.histories.get(uri) ?? [])];
  }

  forget(uri: string): void {
    this.last.delete(uri);
    this.signatures.delete(uri);
    this.histories.delete(uri);
  }
}
