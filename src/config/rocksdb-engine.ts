import type { Config } from './load.js';

type RocksdbOptions = Config['db']['rocksdb'];

/** The `SURREAL_ROCKSDB_*` variable the embedded engine reads for each `HERALD_ROCKSDB_*` setting. */
const ENGINE_VARIABLES = {
  writeBufferSize: 'SURREAL_ROCKSDB_WRITE_BUFFER_SIZE',
  maxWriteBufferNumber: 'SURREAL_ROCKSDB_MAX_WRITE_BUFFER_NUMBER',
  blockCacheSize: 'SURREAL_ROCKSDB_BLOCK_CACHE_SIZE',
} as const satisfies Record<keyof RocksdbOptions, string>;

/** One setting as the engine will see it: a `SURREAL_ROCKSDB_*` variable the operator set wins over Herald's value. */
export interface EngineSetting {
  variable: string;
  value: string;
  setByOperator: boolean;
}

export function engineRocksdbSettings(options: RocksdbOptions, env: Record<string, string | undefined>): Record<keyof RocksdbOptions, EngineSetting> {
  const setting = (key: keyof RocksdbOptions): EngineSetting => {
    const variable = ENGINE_VARIABLES[key];
    const operator = env[variable];
    return operator === undefined ? { variable, value: String(options[key]), setByOperator: false } : { variable, value: operator, setByOperator: true };
  };
  return { writeBufferSize: setting('writeBufferSize'), maxWriteBufferNumber: setting('maxWriteBufferNumber'), blockCacheSize: setting('blockCacheSize') };
}
