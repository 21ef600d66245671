import { Type } from 'typebox';

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptime_s: Type.Number(),
  store: Type.Object({
    status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    engine: Type.String(),
  }),
  last_seq: Type.Union([Type.Integer(), Type.Null()]),
}, { $id: 'Health' });

export const Ready = Type.Object({ ready: Type.Boolean(), reason: Type.Optional(Type.String()) }, { $id: 'Ready' });

export const Live = Type.Object({ live: Type.Literal(true) }, { $id: 'Live' });

export const ReadyDetail = Type.Object({
  ready: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  /** Committed seqs the live feed has not yet delivered, when the store answered. */
  feed_lag: Type.Optional(Type.Integer({ minimum: 0 })),
}, { $id: 'ReadyDetail' });
