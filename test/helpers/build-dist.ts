/**
 * Transpiles what `import … from 'herald/client'` and the `herald` command run (src/client, src/cli and the
 * src/lib files they import) into dist/, as the `prepare` build would emit it: a moment, where a full tsc
 * build takes half a minute. Tests that run either call it first, so they never run a stale build.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './spawn-server.js';

const SOURCES = ['src/client', 'src/cli', 'src/lib'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

export function buildDist(): void {
  for (const file of SOURCES.flatMap((dir) => tsFiles(join(REPO_ROOT, dir)))) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
      fileName: file,
    });
    const out = join(REPO_ROOT, 'dist', relative(join(REPO_ROOT, 'src'), file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    // Other test files may run a file this rewrites: a rename replaces it whole, never half written.
    const temp = `${out}.${process.pid}.tmp`;
    writeFileSync(temp, outputText);
    renameSync(temp, out);
  }
}
