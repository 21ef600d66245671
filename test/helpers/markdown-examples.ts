/**
 * The fenced code blocks of a Markdown file, classified by how the docs-examples test runs them.
 *
 * A block runs unless it says otherwise: `sh`/`bash`/`shell` in one bash session per file, `js` with node,
 * `ts` with tsx. Blocks whose info string names data (`json`, `http`, `sql`, `text`) are shown, not run. Any
 * other block must be preceded by `<!-- example: skip (reason) -->`, so that no example escapes the test
 * unnoticed. `# → text` and `// → text` comments are the output the block documents (`…` elides).
 */

export type Runner = 'bash' | 'node' | 'tsx';

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  code: string;
  /** How it runs; `data` is shown only; `skip` carries a marker; `unknown` is an error. */
  kind: Runner | 'data' | 'skip' | 'unknown';
  skipReason?: string;
  /** Documented output fragments, in order. */
  expected: string[];
}

const RUNNERS: Record<string, Runner> = { sh: 'bash', bash: 'bash', shell: 'bash', js: 'node', javascript: 'node', mjs: 'node', ts: 'tsx', typescript: 'tsx' };
const DATA = new Set(['json', 'http', 'sql', 'text']);
const SKIP = /^<!--\s*example:\s*skip\s*\((.+)\)\s*-->$/;
const OUTPUT = /(?:#|\/\/) → (.+)$/;

export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !(lines[j] ?? '').trim().startsWith(fence); j++) body.push((lines[j] ?? '').slice(indent.length));
    let previous = i - 1;
    while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous--;
    const skip = SKIP.exec((lines[previous] ?? '').trim());
    const code = body.join('\n');
    const runner = RUNNERS[info];
    blocks.push({
      line: i + 1,
      info,
      code,
      kind: skip ? 'skip' : runner ?? (DATA.has(info) ? 'data' : 'unknown'),
      ...(skip?.[1] !== undefined && { skipReason: skip[1] }),
      expected: body.flatMap((l) => OUTPUT.exec(l)?.[1]?.trim() ?? []),
    });
    i = j;
  }
  return blocks;
}

/** Whether `output` contains `expected`, where `…` in `expected` stands for any run of characters on a line. */
export function showsOutput(output: string, expected: string): boolean {
  const pattern = expected.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?');
  return new RegExp(pattern).test(output);
}
