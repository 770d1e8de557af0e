/**
 * The TextMate grammars, tokenized with vscode-textmate (VS Code's tokenizer) on top of VS Code's
 * Markdown and YAML grammars (from the tm-grammars package), wired as package.json contributes them.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { snippetBody } from '../src/snippets';
import { manifest, ROOT } from './helpers';

const OPTMD = 'text.html.markdown.optmd';

interface Contribution {
  language?: string;
  scopeName: string;
  path: string;
  injectTo?: string[];
}

let registry: vsctm.Registry;

before(async () => {
  const wasm = fs.readFileSync(path.join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const grammars: Contribution[] = manifest().contributes.grammars;
  const files: Record<string, string> = {
    'text.html.markdown': path.join(ROOT, 'node_modules', 'tm-grammars', 'grammars', 'markdown.json'),
    'source.yaml': path.join(ROOT, 'node_modules', 'tm-grammars', 'grammars', 'yaml.json'),
    'source.json': path.join(ROOT, 'node_modules', 'tm-grammars', 'grammars', 'json.json'),
  };
  const injections: Record<string, string[]> = {};
  for (const g of grammars) {
    files[g.scopeName] = path.join(ROOT, g.path);
    for (const target of g.injectTo ?? []) {
      (injections[target] ??= []).push(g.scopeName);
    }
  }
  registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) =>
      files[scope] ? vsctm.parseRawGrammar(fs.readFileSync(files[scope], 'utf8'), files[scope]) : null,
    getInjections: (scope: string) => injections[scope],
  });
});

/** Each line's tokens, with their scopes joined by spaces. */
interface Line {
  text: string;
  tokens: { start: number; end: number; scopes: string }[];
}

async function tokenize(text: string, scope = OPTMD): Promise<Line[]> {
  const grammar = await registry.loadGrammar(scope);
  assert.ok(grammar, `grammar ${scope} did not load`);
  let state = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return { text: line, tokens: r.tokens.map((t) => ({ start: t.startIndex, end: t.endIndex, scopes: t.scopes.join(' ') })) };
  });
}

/** The scopes at the first character of `needle` (on line `line`, else the first line that has it). */
function scopesAt(lines: Line[], needle: string, line?: number): string {
  const i = line ?? lines.findIndex((l) => l.text.includes(needle));
  assert.ok(i >= 0 && lines[i], `no line with ${JSON.stringify(needle)}`);
  const col = lines[i].text.indexOf(needle);
  assert.ok(col >= 0, `${JSON.stringify(needle)} is not on line ${i}: ${lines[i].text}`);
  const t = lines[i].tokens.find((x) => x.start <= col && col < x.end);
  assert.ok(t, `no token at ${i}:${col}`);
  return t.scopes;
}

const SPEC = [
  '---',
  'expect:',
  '  objective: 97',
  '---',
  '# Diet',
  '',
  'Polly wants *cheap* food.',
  '',
  '```model',
  'sets:',
  '  F: foods.food   # a column',
  '  T: 1..12',
  'vars:',
  '  x[f in F]: {domain: integer, ub: 10}',
  'minimize: sum(cost[f] * x[f] for f in F)',
  'constraints:',
  '  need[t in T if t > 1]: x[t] >= 2000',
  '```',
  '',
  'After the block.',
  '',
  '```csv extra',
  'a,b',
  '```',
].join('\n');

test('package.json wires the grammars: optmd includes Markdown, two injections into it only', () => {
  const grammars: Contribution[] = manifest().contributes.grammars;
  const main = grammars.find((g) => g.language === 'optmd');
  assert.equal(main?.scopeName, OPTMD);
  for (const g of grammars) {
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, g.path), 'utf8'));
    assert.equal(raw.scopeName, g.scopeName, g.path);
    if (g.injectTo) {
      assert.deepEqual(g.injectTo, [OPTMD]);
      assert.ok(raw.injectionSelector, `${g.path} has no injectionSelector`);
    }
  }
  const language = manifest().contributes.languages[0];
  assert.deepEqual([language.id, language.filenamePatterns, language.extensions], ['optmd', ['*.opt.md'], ['.opt.md']]);
});

test('prose, headings and front matter keep Markdown highlighting', async () => {
  const tokens = await tokenize(SPEC);
  assert.match(scopesAt(tokens, 'Diet'), /markup\.heading\.markdown/);
  assert.match(scopesAt(tokens, 'cheap'), /markup\.italic\.markdown/);
  assert.match(scopesAt(tokens, 'objective'), /meta\.embedded\.block\.frontmatter.*entity\.name\.tag\.yaml/);
  assert.match(scopesAt(tokens, 'After the block.'), /meta\.paragraph\.markdown/);
});

test('the model block is YAML, with expressions highlighted', async () => {
  const tokens = await tokenize(SPEC);
  assert.match(scopesAt(tokens, 'model', 8), /fenced_code\.block\.language/);
  // keys are YAML keys
  assert.match(scopesAt(tokens, 'sets', 9), /meta\.embedded\.block\.yaml.*entity\.name\.tag\.yaml/);
  assert.match(scopesAt(tokens, '#', 10), /comment\.line/);
  // values are expressions
  assert.match(scopesAt(tokens, 'foods', 10), /meta\.expression\.optmd variable\.other\.object/);
  assert.match(scopesAt(tokens, '..', 11), /keyword\.operator\.range/);
  assert.match(scopesAt(tokens, '12', 11), /constant\.numeric/);
  assert.match(scopesAt(tokens, 'sum', 14), /support\.function\.optmd/);
  assert.match(scopesAt(tokens, 'for', 14), /keyword\.control\.optmd/);
  assert.match(scopesAt(tokens, '*', 14), /keyword\.operator\.arithmetic/);
  // an indexed key: the name is a key, the index an expression
  assert.match(scopesAt(tokens, 'need', 16), /entity\.name\.tag\.yaml/);
  assert.match(scopesAt(tokens, 'if', 16), /meta\.index\.optmd keyword\.control/);
  assert.match(scopesAt(tokens, '>=', 16), /keyword\.operator\.comparison/);
  // flow mappings stay YAML (the expression rule must not swallow the closing brace)
  assert.match(scopesAt(tokens, '}', 13), /punctuation\.definition\.mapping\.end\.yaml/);
  assert.match(scopesAt(tokens, 'integer', 13), /meta\.flow-mapping\.yaml/);
  // the fence closes the block
  assert.doesNotMatch(scopesAt(tokens, 'After the block.'), /meta\.embedded/);
});

test('other fenced blocks are Markdown\'s business', async () => {
  const tokens = await tokenize(SPEC);
  assert.doesNotMatch(scopesAt(tokens, 'a,b'), /meta\.embedded\.block\.yaml/);
});

test('plain Markdown files are not affected (the injections target optmd only)', async () => {
  const tokens = await tokenize(SPEC, 'text.html.markdown');
  assert.doesNotMatch(tokens.flatMap((l) => l.tokens.map((t) => t.scopes)).join('\n'), /optmd/);
  assert.doesNotMatch(scopesAt(tokens, 'sets:'), /yaml/);
});

test('snippets: valid, for optmd, with the constructs of a model block and a new-spec template', () => {
  const contribution = manifest().contributes.snippets;
  assert.deepEqual(contribution, [{ language: 'optmd', path: './snippets/optmd.code-snippets' }]);
  const snippets = JSON.parse(fs.readFileSync(path.join(ROOT, contribution[0].path), 'utf8'));
  const prefixes = Object.values(snippets).flatMap((s: any) => s.prefix);
  for (const p of ['spec', 'model', 'set', 'param', 'var', 'constraint', 'constraint-for']) {
    assert.ok(prefixes.includes(p), `no snippet with prefix ${p}`);
  }
  const body = snippetBody(snippets);
  assert.match(body, /^# \$\{1:/);
  assert.match(body, /\n```model\n[\s\S]*\nmaximize: [\s\S]*\n```\n/);
});

test('the new-spec snippet is highlighted like a spec', async () => {
  const snippets = JSON.parse(fs.readFileSync(path.join(ROOT, 'snippets', 'optmd.code-snippets'), 'utf8'));
  // Placeholders at their defaults, as VS Code inserts them.
  const text = snippetBody(snippets)
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\d+/g, '')
    .replace(/\\\$/g, '$');
  const tokens = await tokenize(text);
  assert.match(scopesAt(tokens, 'maximize'), /entity\.name\.tag\.yaml/);
  assert.match(scopesAt(tokens, 'sum'), /support\.function\.optmd/);
});
