/** The "New optimization problem" template comes from the snippets file (one source). Pure. */

export const NEW_SPEC_SNIPPET = 'New optimization spec';
export const SNIPPETS_FILE = 'snippets/optmd.code-snippets';

interface Snippet {
  prefix?: string | string[];
  body: string | string[];
  description?: string;
}

/** The snippet body (VS Code snippet syntax) of `name` in the parsed snippets file. */
export function snippetBody(snippets: unknown, name = NEW_SPEC_SNIPPET): string {
  const s = (snippets as Record<string, Snippet> | null)?.[name];
  if (!s || (typeof s.body !== 'string' && !Array.isArray(s.body))) {
    throw new Error(`snippet "${name}" not found in ${SNIPPETS_FILE}`);
  }
  return Array.isArray(s.body) ? s.body.join('\n') : s.body;
}
