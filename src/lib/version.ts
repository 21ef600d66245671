import { createRequire } from 'node:module';

/** This Herald's version, as package.json states it (health answers it, the schema check names it). */
export const HERALD_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
