import { describe, expect, it } from 'vitest';
import { cloudEventId, fromCloudEvent, isJsonMediaType, toCloudEvent } from '../src/events/cloudevents.js';
import { prepareEvent } from '../src/events/prepare.js';
import type { Event } from '../src/schemas/event.js';

/** The pure mapping: a CloudEvent through Herald and back is the same CloudEvent, plus Herald's extensions. */
function roundTrip(attributes: Record<string, unknown>, data: unknown): Record<string, unknown> {
  const { input, trace, origin } = fromCloudEvent({ attributes, data });
  const stored: Event = { ...prepareEvent(input, new Date(0)), ...trace, cloudevent: origin, event_id: input.event_id as string, seq: 9 };
  return toCloudEvent(stored);
}

const base = { specversion: '1.0', id: 'a-1', source: 'urn:x', type: 'Com.Example.Thing' };

describe('CloudEvents mapping', () => {
  it.each([
    ['an object', { k: [1, { v: true }] }],
    ['a string', 'text'],
    ['an array', [1, 2]],
    ['null', null],
  ])('gives back id, source, type, subject, extensions and data when the data is %s', (_kind, data) => {
    const ce = roundTrip({ ...base, subject: 's', region: 'eu', count: 3, flag: false, datacontenttype: 'application/vnd.x+json' }, data);
    expect(ce).toMatchObject({ ...base, subject: 's', region: 'eu', count: 3, flag: false, datacontenttype: 'application/vnd.x+json', data, seq: 9, priority: 'normal' });
  });

  it('an event without data goes out without data', () => {
    const ce = roundTrip(base, undefined);
    expect('data' in ce).toBe(false);
    expect('datacontenttype' in ce).toBe(false);
  });

  it('maps the Herald extensions to fields and back, ignores an incoming seq, takes traceparent', () => {
    const workflow = '7b0e4a36-3f9d-4c1e-9a51-2d9a4c1c7f00';
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { input, trace, origin } = fromCloudEvent({
      attributes: { ...base, priority: 'critical', workflowid: workflow, target: 'ui', seq: 4, traceparent },
      data: {},
    });
    expect(input).toMatchObject({ event_id: cloudEventId('urn:x', 'a-1'), event_type: 'com.example.thing', priority: 'critical', workflow_id: workflow, target: 'ui' });
    expect(trace).toEqual({ traceparent });
    expect(origin).toEqual({ id: 'a-1', type: 'Com.Example.Thing' });
  });

  it('identity is source + id, unambiguous: a source never holds the line break that joins them', () => {
    expect(cloudEventId('s', '1')).toBe(cloudEventId('s', '1'));
    expect(cloudEventId('s', '1')).not.toBe(cloudEventId('t', '1'));
    expect(() => fromCloudEvent({ attributes: { ...base, source: 'a\nb', id: 'c' }, data: {} })).toThrow(/"source" must not contain a line break/);
  });

  it('knows JSON media types', () => {
    expect(['application/json', 'application/json; charset=utf-8', 'text/json', 'application/cloudevents+json', 'application/vnd.a.b+json'].every(isJsonMediaType)).toBe(true);
    expect(['text/plain', 'application/xml', 'application/jsonx', 'application/octet-stream'].some(isJsonMediaType)).toBe(false);
  });
});
