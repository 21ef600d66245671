#!/usr/bin/env node
// The `herald` command: the CLI's build in dist/cli, which `npm install` writes (the `prepare` script) and
// `npm run build` refreshes. A checkout without that build runs the TypeScript sources through tsx instead,
// which costs most of a second of CPU at every start.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  process.stderr.write('herald: dist/cli is missing; run npm run build\n');
  process.exitCode = 1;
}
