import { describe, expect, it, vi } from 'vitest';
import { Inbox } from '../src/stream/inbox.js';

function socket(): { isPaused: boolean; pauses: number; resumes: number; pause(): void; resume(): void } {
  return {
    isPaused: false,
    pauses: 0,
    resumes: 0,
    pause() {
      this.isPaused = true;
      this.pauses += 1;
    },
    resume() {
      this.isPaused = false;
      this.resumes += 1;
    },
  };
}

/** A task that runs until the test finishes it. */
function gated(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const task = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
  };
  return { task, finish };
}

describe('Inbox', () => {
  it('runs tasks one at a time in order, pauses at the message bound and resumes below it', async () => {
    const s = socket();
    const inbox = new Inbox(s, { maxMessages: 3, maxBytes: 1_000 }, () => {});
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((name) => gated(log, name));
    inbox.push(1, tasks[0]!.task);
    inbox.push(1, tasks[1]!.task);
    expect(s.isPaused).toBe(false);
    inbox.push(1, tasks[2]!.task);
    expect(s.isPaused).toBe(true);
    await vi.waitFor(() => expect(log).toEqual(['start a']));
    tasks[0]!.finish();
    await vi.waitFor(() => expect(log).toEqual(['start a', 'end a', 'start b']));
    expect(s.isPaused).toBe(false);
    tasks[1]!.finish();
    tasks[2]!.finish();
    await vi.waitFor(() => expect(log).toHaveLength(6));
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect([s.pauses, s.resumes]).toEqual([1, 1]);
  });

  it('pauses at the byte bound', async () => {
    const s = socket();
    const inbox = new Inbox(s, { maxMessages: 100, maxBytes: 1_000 }, () => {});
    const log: string[] = [];
    const big = gated(log, 'big');
    inbox.push(600, big.task);
    expect(s.isPaused).toBe(false);
    inbox.push(400, async () => {});
    expect(s.isPaused).toBe(true);
    big.finish();
    await vi.waitFor(() => expect(s.resumes).toBe(1));
  });

  it('reports a failing task and goes on with the next', async () => {
    const s = socket();
    const errors: unknown[] = [];
    const inbox = new Inbox(s, { maxMessages: 10, maxBytes: 1_000 }, (err) => errors.push(err));
    const ran: string[] = [];
    inbox.push(1, async () => {
      throw new Error('boom');
    });
    inbox.push(1, async () => {
      ran.push('next');
    });
    await vi.waitFor(() => expect(ran).toEqual(['next']));
    expect(errors).toEqual([new Error('boom')]);
  });
});
