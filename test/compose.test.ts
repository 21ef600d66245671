import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../src/config.js';

// Static checks of docker-compose.yml and the Dockerfile against the config schema: no Docker engine is
// needed, but a misspelt variable, a wrong port or a dropped healthcheck fails here.

const root = new URL('../', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');

const KNOWN_ENV = new Set(Object.keys(EnvSchema.properties));
const DEFAULT_PORT = Number(EnvSchema.properties.PORT?.default);
const HERALDS = ['herald-1', 'herald-2'] as const;
/** Profile `cluster`: PD + TiKV, two SurrealDB nodes on it, and one Herald replica per node. */
const CLUSTER = ['pd', 'tikv', 'surrealdb-1', 'surrealdb-2', 'herald-cluster-1', 'herald-cluster-2'] as const;
const CLUSTER_HERALDS = { 'herald-cluster-1': 'surrealdb-1', 'herald-cluster-2': 'surrealdb-2' } as const;
type Port = string | number | { target: number | string; published?: number | string };
type Volume = string | { type?: string; source?: string; target: string };
interface Service {
  profiles?: string[];
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Port[];
  volumes?: Volume[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `merge: true` resolves YAML merge keys (`<<: *herald`), which Compose supports.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** The environment as a map, whichever of Compose's two syntaxes (map or KEY=VALUE list) is used. */
function environment(svc: Service): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const eq = entry.indexOf('=');
      return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** What Compose substitutes when the variables are unset: `${X:-d}` and `${X-d}` give d, `${X}` gives ''. */
function withDefaults(value: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g, (_m, name: string, _dash, def?: string, q?: string, msg?: string) => {
    if (q) throw new Error(`\${${name}} is required: ${msg ?? ''}`);
    return def ?? '';
  }).replaceAll('$$', '$');
}

/** Container-side ports: short syntax `[ip:][host:]container[/proto]` or long syntax `{ target }`. */
function containerPorts(svc: Service): number[] {
  return (svc.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(p.target);
    const spec = String(p).split('/')[0] as string;
    return Number(spec.split(':').at(-1));
  });
}

function hostPorts(svc: Service): string[] {
  return (svc.ports ?? []).map((p) => {
    if (typeof p === 'object') return String(p.published ?? '');
    const parts = String(p).split('/')[0]!.split(':');
    return parts.length >= 2 ? parts.at(-2)! : '';
  });
}

function volumeTargets(svc: Service): { source?: string; target: string }[] {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return target === undefined ? { target: source as string } : { source, target };
  });
}

describe('docker-compose.yml', () => {
  it('defines a SurrealDB server and two Herald replicas', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['surrealdb', ...HERALDS]));
  });

  it('builds Herald only for the known replicas', () => {
    const built = Object.entries(compose.services).filter(([, svc]) => svc.build !== undefined).map(([name]) => name);
    expect(built.sort()).toEqual([...HERALDS, ...Object.keys(CLUSTER_HERALDS)].sort());
  });

  it.each([...HERALDS, ...Object.keys(CLUSTER_HERALDS)])('%s sets only variables that Herald reads (EnvSchema)', (name) => {
    const unknown = Object.keys(environment(service(name))).filter((key) => !KNOWN_ENV.has(key));
    expect(unknown, `not in EnvSchema (typo?): ${unknown.join(', ')}`).toEqual([]);
  });

  it.each(HERALDS)('%s sets the remote-database variables', (name) => {
    expect(Object.keys(environment(service(name)))).toEqual(
      expect.arrayContaining(['HERALD_DB_URL', 'HERALD_DB_NS', 'HERALD_DB_DB', 'HERALD_DB_USER', 'HERALD_DB_PASS', 'HERALD_API_KEYS']),
    );
  });

  it.each(HERALDS)('%s points HERALD_DB_URL at the surrealdb service over ws://', (name) => {
    const url = withDefaults(environment(service(name)).HERALD_DB_URL ?? '');
    expect(url.startsWith('ws://')).toBe(true);
    const parsed = new URL(url);
    expect(parsed.hostname).toBe('surrealdb');
    expect(containerPorts(service('surrealdb'))).toContain(Number(parsed.port));
  });

  it.each(HERALDS)('%s loads as a valid config with the compose defaults', (name) => {
    const env = Object.fromEntries(Object.entries(environment(service(name))).map(([k, v]) => [k, withDefaults(v)]));
    const config = loadConfig(env);
    expect(config.db.url).toBe('ws://surrealdb:8000');
    // Requests from the host are not loopback inside a container: without a key nothing could call Herald.
    expect(config.apiKeys.length).toBeGreaterThan(0);
  });

  it.each(HERALDS)('%s maps a host port to the port Herald listens on', (name) => {
    const svc = service(name);
    const listening = Number(withDefaults(environment(svc).PORT ?? String(DEFAULT_PORT)));
    expect(DEFAULT_PORT).toBe(8080);
    expect(containerPorts(svc)).not.toHaveLength(0);
    for (const port of containerPorts(svc)) expect(port).toBe(listening);
  });

  it('publishes the replicas on different host ports (8080, 8081)', () => {
    expect(HERALDS.flatMap((name) => hostPorts(service(name)))).toEqual(['8080', '8081']);
  });

  it('uses no host port twice, across both profiles (a profile starts alongside the default services)', () => {
    const ports = Object.values(compose.services).flatMap(hostPorts).filter((p) => p !== '');
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it.each(HERALDS)('%s is built from this repository and waits for a healthy surrealdb', (name) => {
    const svc = service(name);
    const context = typeof svc.build === 'string' ? svc.build : svc.build?.context;
    expect(context).toBe('.');
    const deps = svc.depends_on;
    expect(deps && !Array.isArray(deps) ? deps.surrealdb?.condition : undefined).toBe('service_healthy');
  });

  it('runs the official SurrealDB v3 image on port 8000 with a persistent volume and a healthcheck', () => {
    const db = service('surrealdb');
    expect(db.image).toMatch(/^surrealdb\/surrealdb:v3(\.|$)/);
    expect(containerPorts(db)).toContain(8000);

    const mounts = volumeTargets(db);
    expect(mounts).not.toHaveLength(0);
    // A named volume (declared at top level), not a bind mount or an anonymous volume.
    const named = mounts.filter((m) => m.source && compose.volumes && m.source in compose.volumes);
    expect(named).not.toHaveLength(0);

    // The storage path given to `surreal start` lives on that volume.
    const command = Array.isArray(db.command) ? db.command.join(' ') : db.command ?? '';
    expect(command).toMatch(/^start\b/);
    const path = /\b(?:rocksdb|surrealkv):(?:\/\/)?(\/\S+)/.exec(command)?.[1];
    expect(path, 'an on-disk rocksdb:/… or surrealkv:/… path').toBeDefined();
    expect(named.some((m) => path!.startsWith(`${m.target}/`))).toBe(true);

    expect(db.healthcheck?.disable).not.toBe(true);
    expect(db.healthcheck?.test).toBeDefined();
  });
});

describe('docker-compose.yml, profile cluster', () => {
  const command = (svc: Service) => (Array.isArray(svc.command) ? svc.command.join(' ') : svc.command ?? '');
  const dependsOn = (svc: Service, on: string) => {
    const deps = svc.depends_on;
    return deps && !Array.isArray(deps) ? deps[on]?.condition : undefined;
  };

  it('puts PD, TiKV, two SurrealDB nodes and two Herald replicas in profile cluster, and nothing else', () => {
    const inProfile = Object.entries(compose.services).filter(([, svc]) => svc.profiles !== undefined);
    expect(inProfile.map(([name]) => name).sort()).toEqual([...CLUSTER].sort());
    for (const [, svc] of inProfile) expect(svc.profiles).toEqual(['cluster']);
    // `docker compose up` without --profile keeps today's default: one SurrealDB server and two replicas.
    for (const name of ['surrealdb', ...HERALDS]) expect(service(name).profiles).toBeUndefined();
  });

  it('runs pinned PingCAP images, PD health-checked, TiKV registered with PD and started after it', () => {
    const pd = service('pd');
    const tikv = service('tikv');
    expect(pd.image).toMatch(/^pingcap\/pd:v\d+\.\d+\.\d+$/);
    expect(tikv.image).toBe(pd.image?.replace('/pd:', '/tikv:'));
    expect(command(pd)).toContain('--client-urls=http://0.0.0.0:2379');
    expect(command(pd)).toContain('--advertise-client-urls=http://pd:2379');
    expect(pd.healthcheck?.test).toBeDefined();
    expect(command(tikv)).toMatch(/--pd=(http:\/\/)?pd:2379\b/);
    expect(dependsOn(tikv, 'pd')).toBe('service_healthy');
  });

  it.each(['surrealdb-1', 'surrealdb-2'])('%s runs the server image on the TiKV cluster through PD, health-checked, after PD and TiKV', (name) => {
    const node = service(name);
    expect(node.image).toBe(service('surrealdb').image);
    expect(command(node)).toBe('start tikv://pd:2379');
    expect(containerPorts(node)).toContain(8000);
    expect(node.healthcheck?.test).toBeDefined();
    expect(dependsOn(node, 'pd')).toBe('service_healthy');
    expect(dependsOn(node, 'tikv')).toBeDefined();
  });

  it.each(Object.entries(CLUSTER_HERALDS))('%s talks to its own node (%s), waits for it to be healthy, and tails instead of LIVE', (name, node) => {
    const svc = service(name);
    const env = Object.fromEntries(Object.entries(environment(svc)).map(([k, v]) => [k, withDefaults(v)]));
    const url = new URL(env.HERALD_DB_URL ?? '');
    expect(url.protocol).toBe('ws:');
    expect(url.hostname).toBe(node);
    expect(containerPorts(service(node))).toContain(Number(url.port));
    expect(dependsOn(svc, node)).toBe('service_healthy');
    // A LIVE query only sees writes made through its own node (docs/deployment.md#cluster-profile).
    expect(env.HERALD_LIVE_QUERY).toBe('off');
    expect(env.HERALD_FEED_POLL_INTERVAL).toMatch(/^\d+(ms|s)$/);
    const config = loadConfig(env);
    expect(config.db.url).toBe(`ws://${node}:8000`);
    expect(config.apiKeys.length).toBeGreaterThan(0);
    expect(containerPorts(svc)).toEqual([DEFAULT_PORT]);
  });

  it('spreads the two replicas over the two nodes', () => {
    const urls = Object.keys(CLUSTER_HERALDS).map((name) => withDefaults(environment(service(name)).HERALD_DB_URL ?? ''));
    expect(new Set(urls).size).toBe(2);
  });
});

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerfile(text: string): { instruction: string; args: string }[] {
  const out: { instruction: string; args: string }[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const space = full.search(/\s/);
    out.push({ instruction: full.slice(0, space).toUpperCase(), args: full.slice(space + 1).trim() });
  }
  return out;
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) as a map. */
function envInstructions(steps: { instruction: string; args: string }[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { instruction, args } of steps) {
    if (instruction !== 'ENV') continue;
    if (!args.includes('=')) {
      const [key, ...rest] = args.split(/\s+/);
      env[key as string] = rest.join(' ');
      continue;
    }
    for (const pair of args.match(/[^\s=]+=("[^"]*"|'[^']*'|\S*)/g) ?? []) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
    }
  }
  return env;
}

describe('Dockerfile', () => {
  const steps = dockerfile(read('Dockerfile'));
  const args = (instruction: string) => steps.filter((s) => s.instruction === instruction).map((s) => s.args);
  const finalStage = steps.slice(steps.map((s) => s.instruction).lastIndexOf('FROM'));
  const finalArgs = (instruction: string) => finalStage.filter((s) => s.instruction === instruction).map((s) => s.args);

  it('is multi-stage on a glibc Node 24 base (the SurrealDB addon is linux-*-gnu)', () => {
    const froms = args('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      expect(from).toMatch(/^node:24[-.\w]*\s/);
      expect(from).not.toMatch(/alpine/);
    }
  });

  it('installs production dependencies only, and they hold no tsx or esbuild', () => {
    const install = finalArgs('RUN').find((a) => /\bnpm ci\b/.test(a));
    expect(install).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    // What `npm ci --omit=dev` installs: every package-lock.json entry not marked dev.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    const production = Object.entries(lock.packages).filter(([path, pkg]) => path !== '' && pkg.dev !== true);
    const names = production.map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => /^(tsx|esbuild|@esbuild\/.*)$/.test(name))).toEqual([]);
  });

  it('runs as a non-root user', () => {
    const user = finalArgs('USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('has a HEALTHCHECK on /health', () => {
    const [healthcheck] = finalArgs('HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    expect(healthcheck).toMatch(/\/health(?![\w-])/);
    expect(healthcheck).not.toMatch(/^NONE\b/);
  });

  it('EXPOSEs the port Herald listens on', () => {
    const env = envInstructions(finalStage);
    const listening = Number(env.PORT ?? DEFAULT_PORT);
    expect(listening).toBe(DEFAULT_PORT);
    const exposed = finalArgs('EXPOSE').flatMap((a) => a.split(/\s+/)).map((p) => Number(p.split('/')[0]));
    expect(exposed).toContain(listening);
  });

  it('sets only variables that Herald reads, to values it accepts', () => {
    const env = envInstructions(finalStage);
    // Read by Node and glibc, not by Herald.
    const runtime = new Set(['NODE_ENV', 'MALLOC_ARENA_MAX']);
    const herald = Object.fromEntries(Object.entries(env).filter(([key]) => !runtime.has(key)));
    const unknown = Object.keys(herald).filter((key) => !KNOWN_ENV.has(key));
    expect(unknown, `not in EnvSchema (typo?): ${unknown.join(', ')}`).toEqual([]);
    expect(() => loadConfig(herald)).not.toThrow();
  });

  it('keeps the embedded database on the declared volume', () => {
    const url = envInstructions(finalStage).HERALD_DB_URL;
    expect(url).toMatch(/^rocksdb:\/\//);
    const volumes = finalArgs('VOLUME').flatMap((a) => (a.startsWith('[') ? (JSON.parse(a) as string[]) : a.split(/\s+/)));
    const path = url!.replace(/^rocksdb:\/\//, '').split('?')[0]!;
    expect(volumes.some((v) => path.startsWith(`${v.replace(/\/$/, '')}/`))).toBe(true);
  });

  it('starts the compiled server with plain node', () => {
    const cmd = finalArgs('CMD').at(-1);
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', 'dist/server.js']);
    expect(finalStage.filter((s) => /\btsx\b/.test(s.args))).toEqual([]);
    // tsconfig.build.json compiles src/ into dist/, so dist/server.js is src/server.ts.
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(new URL('src/server.ts', root))).toBe(true);
  });

  it('keeps node_modules, dist and data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git']));
  });
});
