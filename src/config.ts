/** Herald's configuration: each variable is declared once in ./config/entries.ts. */
export { ConfigError, EnvSchema, loadConfig, variables, type Config } from './config/load.js';
export type { ApiKey, Scope } from './config/parsers.js';
