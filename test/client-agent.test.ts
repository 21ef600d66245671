/**
 * `EventAwareAgent`: the task lifecycle (task_started, then task_completed or task_failed), published under
 * the agent's name with the task's ids.
 */
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventAwareAgent, HeraldClient, type HeraldEvent } from '../src/client/index.js';
import { testApp } from './helpers/app.js';

describe('EventAwareAgent', () => {
  let app: FastifyInstance;
  let client: HeraldClient;
  beforeAll(async () => {
    app = await testApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    client = new HeraldClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, WebSocket });
  });
  afterAll(async () => {
    await app.close();
  });

  /** Another agent watching a workflow, as agents watch each other; resolves at `count` events. */
  async function watch(workflowId: string, count: number) {
    const observer = new EventAwareAgent('observer', client);
    let done: (events: HeraldEvent[]) => void = () => undefined;
    const seen = new Promise<HeraldEvent[]>((resolve) => (done = resolve));
    const events: HeraldEvent[] = [];
    const stream = observer.subscribeToEvents(['task_*'], (e) => {
      events.push(e);
      if (events.length === count) done(events);
    }, { workflow_id: workflowId });
    await stream.ready();
    return { seen, observer };
  }

  it('runTask publishes task_started, the progress, then task_completed with the result', async () => {
    const workflowId = randomUUID();
    const sessionId = randomUUID();
    const { seen, observer } = await watch(workflowId, 4);
    const agent = new EventAwareAgent('frontend-agent', client);

    const result = await agent.runTask({ task_id: 't-1', description: 'build the page', workflow_id: workflowId, session_id: sessionId }, async (task) => {
      await task.publishProgress(10, 'analyzing_requirements', { phase: 'analysis' });
      await agent.publishProgress(70, 'deploying'); // the agent-level call carries the running task's ids too
      return { url: 'https://example.test/page' };
    });
    expect(result).toEqual({ url: 'https://example.test/page' });

    const events = await seen;
    observer.close();
    expect(events.map((e) => e.event_type)).toEqual(['task_started', 'task_progress', 'task_progress', 'task_completed']);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    const correlationId = events[0]?.correlation_id;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    for (const e of events) {
      expect(e).toMatchObject({ source: 'frontend-agent', workflow_id: workflowId, session_id: sessionId, correlation_id: correlationId });
    }
    expect(events[0]?.payload).toEqual({ task_id: 't-1', task_description: 'build the page' });
    expect(events[1]?.payload).toEqual({ progress: 10, message: 'analyzing_requirements', agent: 'frontend-agent', phase: 'analysis' });
    expect(events[2]?.payload).toMatchObject({ progress: 70, message: 'deploying' });
    expect(events[3]?.payload).toEqual({ task_id: 't-1', result: { url: 'https://example.test/page' } });
  });

  it('runTask publishes task_started then task_failed (high priority) and rethrows', async () => {
    const workflowId = randomUUID();
    const { seen, observer } = await watch(workflowId, 2);
    const agent = new EventAwareAgent('backend-agent', client);
    class DeployError extends Error {
      override name = 'DeployError';
    }
    const boom = new DeployError('registry unreachable');

    const thrown = await agent.runTask({ workflow_id: workflowId }, () => {
      throw boom;
    }).then(() => undefined, (err: unknown) => err);
    expect(thrown).toBe(boom);

    const events = await seen;
    observer.close();
    expect(events.map((e) => [e.event_type, e.priority, e.source, e.workflow_id])).toEqual([
      ['task_started', 'normal', 'backend-agent', workflowId],
      ['task_failed', 'high', 'backend-agent', workflowId],
    ]);
    expect(events[1]?.payload).toEqual({ task_id: events[0]?.payload.task_id, error: 'registry unreachable', error_type: 'DeployError' });
    // Outside a task the agent publishes without task ids.
    const plain = await agent.publishEvent('agent_status_changed', { status: 'idle' }, { priority: 'low' });
    expect(plain).toMatchObject({ source: 'backend-agent', workflow_id: null, correlation_id: null, priority: 'low' });
  });
});
