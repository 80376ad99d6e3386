/**
 * The one error type of the store. Callers match on `code`, never on the message.
 *
 * Messages are fixed strings per code plus an optional fixed detail naming the field or the
 * check: never a value, a passphrase, a key, a message body, an identity or a path
 * (libsignal CODING_GUIDELINES: "logs contain no user data"). SQLite's own error text is not
 * carried either; only its symbolic code (e.g. SQLITE_CONSTRAINT_UNIQUE), which holds no data.
 */
export type StoreErrorCode =
  | 'NO_STORE' // openStore: the folder holds no database
  | 'ALREADY_EXISTS' // createStore: the folder already holds a database
  | 'WRONG_PASSPHRASE' // the key file did not unwrap: wrong passphrase or altered file
  | 'KEY_UNAVAILABLE' // a keychain wrapper could not unwrap (no keychain, access denied)
  | 'WRONG_UNLOCK_METHOD' // the key file was wrapped by another method than the one offered
  | 'IN_USE' // another process, or another open Store in this one, holds the data folder
  | 'LOCKED' // the Store was closed: open it again before use
  | 'NOT_FOUND' // the row addressed (or the row a reference points to) does not exist
  | 'CONFLICT' // a unique value (identity key, peer id, tag, id) already exists
  | 'INVALID_INPUT' // an argument failed validation at the store's boundary
  | 'CORRUPT' // the key file or the database does not parse, or they do not belong together
  | 'UNSUPPORTED_VERSION' // written by a newer Parley: refused rather than damaged
  | 'MIGRATION_FAILED' // a schema migration failed and was rolled back
  | 'IO'; // the file system refused (permissions, disk full)

const MESSAGES: Record<StoreErrorCode, string> = {
  NO_STORE: 'no store in this data folder',
  ALREADY_EXISTS: 'a store already exists in this data folder',
  WRONG_PASSPHRASE: 'wrong passphrase or damaged key file',
  KEY_UNAVAILABLE: 'the key could not be unlocked',
  WRONG_UNLOCK_METHOD: 'the store is locked by another unlock method',
  IN_USE: 'the data folder is in use by another Parley instance',
  LOCKED: 'the store is closed',
  NOT_FOUND: 'not found',
  CONFLICT: 'already exists',
  INVALID_INPUT: 'invalid input',
  CORRUPT: 'the store is damaged',
  UNSUPPORTED_VERSION: 'the store was written by a newer version',
  MIGRATION_FAILED: 'the store could not be upgraded',
  IO: 'the data folder could not be read or written',
};

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** SQLite's symbolic result code when SQLite raised the error; never its message. */
  readonly sqliteCode: string | undefined;

  /** `detail` must be a fixed, data-free phrase (which field, which check), never a value. */
  constructor(code: StoreErrorCode, detail?: string, sqliteCode?: string) {
    super(detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code]);
    this.code = code;
    this.sqliteCode = sqliteCode;
  }
}

export function isStoreError(value: unknown, code?: StoreErrorCode): value is StoreError {
  return value instanceof StoreError && (code === undefined || value.code === code);
}

/** The shape of libsql's SqliteError, matched structurally (it is a CommonJS class). */
interface SqliteLikeError {
  readonly name: string;
  readonly code: string;
}

function isSqliteError(value: unknown): value is SqliteLikeError {
  return (
    value instanceof Error && value.name === 'SqliteError' && typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * Turns whatever a SQLite call threw into a StoreError; StoreErrors pass through unchanged.
 * Anything that is neither (a bug: TypeError, RangeError) is rethrown as is.
 */
export function toStoreError(error: unknown, detail?: string): unknown {
  if (error instanceof StoreError || !isSqliteError(error)) return error;
  const code = error.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreError('CONFLICT', detail, code);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new StoreError('NOT_FOUND', detail ?? 'referenced row', code);
  if (code.startsWith('SQLITE_CONSTRAINT')) return new StoreError('INVALID_INPUT', detail, code);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreError('CORRUPT', detail, code);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new StoreError('IN_USE', detail, code);
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    return new StoreError('IO', detail, code);
  }
  return new StoreError('CORRUPT', detail ?? 'unexpected database error', code);
}
