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
