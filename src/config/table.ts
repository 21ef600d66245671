import { variables } from './load.js';

const HEADER = ['| variable | default | meaning |', '|---|---|---|'];

/** README.md's configuration table, one row per entry in declaration order (`npm run docs:config` writes it). */
export function configTable(): string {
  const rows = variables().map(({ env, schema }) =>
    `| \`${env}\` | ${schema.default === '' ? '(empty)' : `\`${schema.default}\``} | ${schema.description} |`);
  return [...HEADER, ...rows].join('\n');
}

/** `markdown` with its configuration table (the header row through the last row) replaced by `table`. */
export function withConfigTable(markdown: string, table: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(HEADER[0] as string);
  if (start < 0) throw new Error(`no configuration table (a line "${HEADER[0]}")`);
  let end = start;
  while (lines[end + 1]?.startsWith('|')) end += 1;
  return [...lines.slice(0, start), table, ...lines.slice(end + 1)].join('\n');
}
