/** Rewrites README.md's configuration table from src/config/entries.ts (`npm run docs:config`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable, withConfigTable } from '../src/config/table.js';

const readme = new URL('../README.md', import.meta.url);
const before = readFileSync(readme, 'utf8');
const after = withConfigTable(before, configTable());
writeFileSync(readme, after);
process.stdout.write(before === after ? 'README.md: configuration table already current\n' : 'README.md: configuration table rewritten\n');
