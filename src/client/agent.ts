import type { HeraldClient } from './client.js';
import type { EventHandler, StreamHandle, SubscribeOptions } from './stream.js';
import type { EventInput, HeraldEvent, StreamFilters } from './types.js';
import { uuid } from './uuid.js';

/** Event fields an agent may set on what it publishes; `source` is always the agent's name. */
export type PublishOptions = Pick<
  EventInput,
  'priority' | 'target' | 'metadata' | 'correlation_id' | 'workflow_id' | 'session_id' | 'expires_at' | 'max_retries'
>;

/** The work `runTask` reports on. `task_id` is generated when absent; the ids are carried on every event. */
export interface AgentTask {
  task_id?: string;
  description?: string;
  workflow_id?: string | null;
  session_id?: string | null;
  /** Groups the task's events; by default a fresh one per task, as the original Python agent did. */
  correlation_id?: string;
}

type TaskIds = Pick<EventInput, 'correlation_id' | 'workflow_id' | 'session_id'>;

/** Passed to a task's function: publishes carrying that task's ids, however many tasks the agent runs at once. */
export interface TaskContext {
  readonly taskId: string;
  readonly correlationId: string;
  publishEvent(eventType: string, payload?: Record<string, unknown>, options?: PublishOptions): Promise<HeraldEvent>;
  publishProgress(progress: number, message: string, metadata?: Record<string, unknown>): Promise<HeraldEvent>;
}

/**
 * `EventAwareAgent`, named after the original Python agent class: an agent that publishes under its own name
 * and reports each task's life (`task_started`, then `task_completed` or `task_failed`), with the task's
 * workflow, session and correlation ids on every event.
 */
export class EventAwareAgent {
  /** Tasks in flight, oldest first; the agent-level publish methods use the newest (the Python agent's `_correlation_id`). */
  private readonly running: TaskIds[] = [];
  private readonly streams = new Set<StreamHandle>();

  constructor(
    readonly name: string,
    readonly client: HeraldClient,
  ) {}

  /** Publishes as this agent, with the ids of the task it is running (the newest, if several). */
  publishEvent(eventType: string, payload: Record<string, unknown> = {}, options: PublishOptions = {}): Promise<HeraldEvent> {
    return this.publishWith(this.running.at(-1) ?? {}, eventType, payload, options);
  }

  /** `task_progress` with `{progress, message, agent}` and any extra fields, as the original Python agent sent it. */
  publishProgress(progress: number, message: string, metadata: Record<string, unknown> = {}): Promise<HeraldEvent> {
    return this.publishEvent('task_progress', progressPayload(this.name, progress, message, metadata));
  }

  /** A live subscription that reconnects and resumes on its own; `close()` (or the agent's) ends it. */
  subscribeToEvents(
    eventTypes: readonly string[],
    handler: EventHandler,
    filters?: StreamFilters,
    options: Omit<SubscribeOptions, 'eventTypes' | 'filters'> = {},
  ): StreamHandle {
    const stream = this.client.subscribe({ ...options, eventTypes, ...(filters && { filters }) }, handler);
    this.streams.add(stream);
    return stream;
  }

  /** Ends every subscription this agent opened (`cleanup_events` in the Python agent). */
  close(): void {
    for (const stream of this.streams) stream.close();
    this.streams.clear();
  }

  /**
   * Runs `fn` between `task_started` and `task_completed` (with its result) or `task_failed` (with the
   * error, which is rethrown). If `task_failed` cannot be published either, both errors are thrown together.
   */
  async runTask<T>(task: AgentTask, fn: (ctx: TaskContext) => Promise<T> | T): Promise<T> {
    const taskId = task.task_id ?? uuid();
    const correlationId = task.correlation_id ?? uuid();
    const ids: TaskIds = {
      correlation_id: correlationId,
      ...(task.workflow_id != null && { workflow_id: task.workflow_id }),
      ...(task.session_id != null && { session_id: task.session_id }),
    };
    const ctx: TaskContext = {
      taskId,
      correlationId,
      publishEvent: (eventType, payload = {}, options = {}) => this.publishWith(ids, eventType, payload, options),
      publishProgress: (progress, message, metadata = {}) =>
        this.publishWith(ids, 'task_progress', progressPayload(this.name, progress, message, metadata), {}),
    };

    await this.publishWith(ids, 'task_started', { task_id: taskId, task_description: task.description ?? null }, {});
    this.running.push(ids);
    let result: T;
    try {
      result = await fn(ctx);
    } catch (err) {
      this.running.splice(this.running.indexOf(ids), 1);
      const failure = err instanceof Error ? { error: err.message, error_type: err.name } : { error: String(err), error_type: typeof err };
      try {
        await this.publishWith(ids, 'task_failed', { task_id: taskId, ...failure }, { priority: 'high' });
      } catch (publishError) {
        throw new AggregateError([err, publishError], `task ${taskId} failed and task_failed could not be published`);
      }
      throw err;
    }
    this.running.splice(this.running.indexOf(ids), 1);
    await this.publishWith(ids, 'task_completed', { task_id: taskId, result: result ?? null }, {});
    return result;
  }

  private publishWith(ids: TaskIds, eventType: string, payload: Record<string, unknown>, options: PublishOptions): Promise<HeraldEvent> {
    return this.client.publish({ event_type: eventType, source: this.name, payload, ...ids, ...options });
  }
}

function progressPayload(agent: string, progress: number, message: string, metadata: Record<string, unknown>): Record<string, unknown> {
  return { progress, message, agent, ...metadata };
}
