/** Reports as nemo.showReport returns them (trimmed from real runs of the examples). */

import { Report } from '../src/report';

export const TRANSPORTATION: Report = {
  spec: '/tmp/rep/transportation.opt.md',
  outcome: 'validated',
  ok: true,
  agent: 'formal',
  status: 'optimal',
  objective: 153.675,
  solution: {
    status: 'optimal',
    objective: 153.675,
    sense: 'minimize',
    bound: 153.67499999999998,
    decisions: {
      ship: [
        ['seattle', 'new-york', 0.0],
        ['seattle', 'chicago', 300.0],
        ['seattle', 'topeka', 0.0],
        ['san-diego', 'new-york', 325.0],
        ['san-diego', 'chicago', 0.0],
        ['san-diego', 'topeka', 275.0],
      ],
    },
    solver: 'highs',
    solver_version: '1.16.0',
    timing: { import: 0.28, build: 0.0012, solve: 0.113 },
  },
  validation: { feasible: true, objective: 153.675, violations: [], checked: 11, slack: { supply: -0.0, meet_demand: -0.0 } },
  expect: { objective: 153.675, status: 'optimal', source: 'Dantzig (1963)' },
  findings: [],
  files: { optimizer: '/tmp/rep/transportation.optimizer.py', simulator: '/tmp/rep/transportation.simulator.py' },
  generated: { optimizer: 'generated', simulator: 'generated' },
  timings: { analyze: 0.008, generate: 0.022, optimizer: 0.56, simulator: 0.079, total: 0.7428611579998687 },
  isolation: 'bubblewrap: network off, read-only system, private /tmp',
};

export const DIET: Report = {
  spec: '/tmp/rep/diet.opt.md',
  outcome: 'validated',
  ok: true,
  agent: 'formal',
  status: 'optimal',
  objective: 97.0,
  solution: {
    status: 'optimal',
    objective: 97.0,
    sense: 'minimize',
    bound: 97.0,
    decisions: {
      servings: [
        ['oatmeal', 4.0],
        ['chicken', -0.0],
        ['eggs', -0.0],
        ['whole milk', 5.0],
        ['cherry pie', 2.0],
        ['pork with beans', -0.0],
      ],
    },
  },
  validation: { feasible: true, objective: 97.0, violations: [], checked: 9, slack: { energy_need: 80.0, protein_need: 9.0, calcium_need: 677.0 } },
  findings: [],
  timings: { total: 0.7565687510004864 },
};

export const REJECTED: Report = {
  spec: '/w/plan.opt.md',
  outcome: 'rejected',
  ok: false,
  agent: 'formal',
  status: 'optimal',
  objective: -12.5,
  solution: {
    status: 'optimal',
    objective: -12.5,
    sense: 'maximize',
    decisions: { build: 1.0, level: [[1, 2.5], [2, -1.25]] },
  },
  validation: { feasible: false, objective: -10, violations: [{ constraint: 'cap' }], checked: 3, slack: { cap: -2 } },
  findings: [{ code: 'NEMO401', severity: 'error', message: 'the simulator finds `cap` violated by 2', span: { line: 40, col: 2, end_line: 40, end_col: 5 } }],
  timings: { total: 12.34 },
};

export const NOT_RUN: Report = {
  spec: '/w/broken.opt.md',
  outcome: 'not_run',
  ok: false,
  agent: null,
  status: null,
  objective: null,
  solution: null,
  validation: null,
  findings: [{ code: 'NEMO124', severity: 'error', message: '`stok` is not defined; did you mean `stock`?', span: null }],
  timings: { analyze: 0.01 },
};
