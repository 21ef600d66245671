/**
 * `npm run chaos [-- --events 200000 --kills 20 --seed 123 ...]`: the long chaos run. Prints the seed first
 * (pass it back with --seed to replay the same decisions), progress lines, then the summary table; exits 1
 * if any guarantee was broken.
 */
import { parseArgs } from 'node:util';
import { runChaos, type ChaosOptions } from './chaos.js';
import { freshSeed } from './random.js';
import { failures, formatSummary } from './report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    kills: { type: 'string', default: '20' },
    http: { type: 'string', default: '4' },
    batch: { type: 'string', default: '4' },
    ws: { type: 'string', default: '2' },
    resumers: { type: 'string', default: '4' },
    seed: { type: 'string' },
    'max-batch': { type: 'string', default: '200' },
    'ws-window': { type: 'string', default: '16' },
    'disconnect-rate': { type: 'string', default: '0.0005' },
    'flaky-rate': { type: 'string', default: '0.2' },
    'kill-delay-max': { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '3600000' },
    'drain-timeout': { type: 'string', default: '600000' },
    json: { type: 'string' },
  },
});

const options: ChaosOptions = {
  events: Number(values.events),
  kills: Number(values.kills),
  httpPublishers: Number(values.http),
  batchPublishers: Number(values.batch),
  wsPublishers: Number(values.ws),
  resumers: Number(values.resumers),
  seed: values.seed === undefined ? freshSeed() : Number(values.seed),
  maxBatch: Number(values['max-batch']),
  wsWindow: Number(values['ws-window']),
  disconnectRate: Number(values['disconnect-rate']),
  flakyRate: Number(values['flaky-rate']),
  killDelayMaxMs: Number(values['kill-delay-max']),
  timeoutMs: Number(values.timeout),
  drainTimeoutMs: Number(values['drain-timeout']),
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
};

const report = await runChaos(options);
process.stdout.write(`${formatSummary(report)}\n`);
if (values.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.json, JSON.stringify(report, null, 2));
}
process.exit(failures(report).length === 0 ? 0 : 1);
