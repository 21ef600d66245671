import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../src/config.js';
import { configTable, withConfigTable } from '../src/config/table.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every configuration variable with its default', () => {
    for (const [name, schema] of Object.entries(EnvSchema.properties)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `${name} missing from the README table`).toBeDefined();
      const shown = schema.default === '' ? '(empty)' : `\`${String(schema.default)}\``;
      expect(row, name).toContain(shown);
    }
  });

  it('has the configuration table `npm run docs:config` writes from the config entries', () => {
    expect(readme.split('\n'), 'README.md is stale: run npm run docs:config').toEqual(withConfigTable(readme, configTable()).split('\n'));
  });

  it('gives exactly the two set-up commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });
});
