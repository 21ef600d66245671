import { createRequire } from 'node:module';

/** Herald's version, from package.json: /health reports it and the API documents carry it. */
export const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
