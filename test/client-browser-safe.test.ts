/**
 * The SDK must load in a browser: at run time it may import nothing but its own modules (no `node:*`, no
 * TypeBox via src/schemas, no packages). Type-only imports are erased, so this compiles every module the way
 * the build does and follows the imports that survive, then loads the output in plain Node without tsx.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupServers, makeTempDir } from './helpers/spawn-server.js';

afterAll(cleanupServers);

const CLIENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../src/client');

function compile(file: string): string {
  return ts.transpileModule(readFileSync(join(CLIENT_DIR, file), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
}

/** Module specifiers of the imports and re-exports left in compiled JavaScript. */
function runtimeImports(js: string): string[] {
  const source = ts.createSourceFile('x.js', js, ts.ScriptTarget.ES2022);
  return source.statements.flatMap((s) =>
    (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier)
      ? [s.moduleSpecifier.text]
      : [],
  );
}

describe('the client entry point', () => {
  it('imports nothing but its own modules at run time', () => {
    const files = readdirSync(CLIENT_DIR).filter((f) => f.endsWith('.ts'));
    const foreign = files.flatMap((file) =>
      runtimeImports(compile(file))
        .filter((specifier) => !(/^\.\/[a-z-]+\.js$/.test(specifier) && files.includes(specifier.slice(2).replace(/\.js$/, '.ts'))))
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(foreign).toEqual([]);
    // The check sees what a bundler would: the schemas are named in the source, but only as types.
    expect(readFileSync(join(CLIENT_DIR, 'types.ts'), 'utf8')).toContain("from '../schemas/event.js'");
    expect(runtimeImports(compile('types.ts'))).toEqual([]);
  });

  it('runs as compiled JavaScript in plain Node, with no TypeScript loader', () => {
    const out = makeTempDir('client-js');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    for (const file of readdirSync(CLIENT_DIR).filter((f) => f.endsWith('.ts'))) {
      writeFileSync(join(out, file.replace(/\.ts$/, '.js')), compile(file));
    }
    const script = `
      const sdk = await import(${JSON.stringify(join(out, 'index.js'))});
      const payload = await sdk.verifyWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330',
          'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
        '{"test": 2432232314}', { now: 1614265330000 });
      new sdk.HeraldClient({ baseUrl: 'http://127.0.0.1:1' });
      console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), payload }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({
      exports: ['EventAwareAgent', 'HeraldClient', 'HeraldError', 'WebhookVerificationError', 'verifyWebhook'],
      payload: { test: 2432232314 },
    });
  });
});
