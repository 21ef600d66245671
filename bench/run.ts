/**
 * `npm run bench [-- scenario...]`: runs the named scenarios (publish, history, fanout, filter-cost, live-cost, webhooks, metrics-cost,
 * rate-limit, soak, disk, upgrade-v1), or all of them but soak and disk (over 10 minutes each) and upgrade-v1 (a one-off
 * start-up cost); run those by name.
 * Each scenario starts its own servers as child processes on fresh temp dirs and stops them at the end.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { ROOT } from './lib.js';
import { runFanout } from './fanout.js';
import { runDisk } from './disk.js';
import { runFilterCost } from './filter-cost.js';
import { runHistory } from './history.js';
import { runLiveCost } from './live-cost.js';
import { runMetricsCost } from './metrics-cost.js';
import { runPublish } from './publish.js';
import { runRateLimit } from './rate-limit.js';
import { runSoak } from './soak.js';
import { runUpgradeV1 } from './upgrade-v1.js';
import { runWebhooks } from './webhooks.js';

const SCENARIOS: Record<string, () => Promise<unknown>> = {
  publish: runPublish,
  history: runHistory,
  fanout: runFanout,
  'filter-cost': runFilterCost,
  'live-cost': runLiveCost,
  webhooks: runWebhooks,
  'metrics-cost': runMetricsCost,
  'rate-limit': runRateLimit,
  soak: runSoak,
  disk: runDisk,
  'upgrade-v1': runUpgradeV1,
};
/** Run only when named. */
const LONG = new Set(['soak', 'disk', 'upgrade-v1']);

const names = process.argv.slice(2).filter((a) => a !== '--');
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; choose from: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const selected = names.length > 0 ? names : Object.keys(SCENARIOS).filter((n) => !LONG.has(n));

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: ROOT }).toString().trim();
  } catch {
    return '?';
  }
};
// The numbers belong to the source as it is now: the commit plus a digest of any uncommitted change to src/.
const dirty = git('status', '--porcelain', '--', 'src');
const srcState = `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + uncommitted src changes (diff sha1 ${execFileSync('sha1sum', { input: git('diff', 'HEAD', '--', 'src') }).toString().slice(0, 12)}; ${dirty.split('\n').length} files)` : ''}`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`Herald bench: ${selected.join(', ')} — node ${process.version}, ${cpus().length} cpus, kernel ${release()}, ${new Date().toISOString()}`);
console.log(`source: ${srcState}; load average before: ${load()}`);
let failed = false;
for (const name of selected) {
  try {
    await (SCENARIOS[name] as () => Promise<unknown>)();
  } catch (error) {
    failed = true;
    console.error(`\n${name} failed:`, error);
  }
}
console.log(`\nload average after: ${load()}`);
process.exit(failed ? 1 : 0);
