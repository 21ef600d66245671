#!/usr/bin/env node
// The `herald` command. In a checkout it runs the TypeScript sources through tsx, as `npm start` does, so it
// never runs a stale build; an installed package (no src/, no tsx) runs the build in dist/cli.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let register;
if (existsSync(source)) {
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // Installed without devDependencies: fall back to the build.
  }
}
if (register) {
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
