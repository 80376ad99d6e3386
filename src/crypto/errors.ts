/**
 * The one error type of the crypto library. Callers match on `code`, never on the message.
 * Messages are fixed strings per code: they never contain key bytes, plaintext or identities
 * (libsignal CODING_GUIDELINES: "logs contain no user data").
 */
export type CryptoErrorCode =
  | 'NOT_INITIALIZED' // initCrypto() has not resolved yet
  | 'INVALID_KEY' // wrong length, all-zero or low-order public key
  | 'INVALID_SIGNATURE' // a signature over a bundle, card or challenge did not verify
  | 'WRONG_IDENTITY' // a bundle or message names another identity than expected
  | 'MALFORMED' // bytes that do not parse: truncated, trailing, bad field
  | 'UNSUPPORTED_VERSION' // a version byte this build does not know
  | 'DECRYPT_FAILED' // authentication failed: altered, truncated or foreign ciphertext
  | 'DUPLICATE_MESSAGE' // a message key that was already used (replay)
  | 'TOO_BIG_MESSAGE_GAP' // a jump forward beyond MAX_FORWARD_JUMP
  | 'UNKNOWN_PREKEY' // a prekey message names a prekey we do not hold
  | 'TOO_LARGE' // input longer than the format allows
  | 'WRONG_PASSPHRASE' // storage key unwrap failed (wrong passphrase or altered blob)
  | 'STREAM_TRUNCATED' // a file stream ended without its final tag
  | 'STREAM_CORRUPT'; // a file stream chunk failed to authenticate or came out of order

const MESSAGES: Record<CryptoErrorCode, string> = {
  NOT_INITIALIZED: 'crypto library used before initCrypto() resolved',
  INVALID_KEY: 'invalid key',
  INVALID_SIGNATURE: 'signature verification failed',
  WRONG_IDENTITY: 'data belongs to a different identity',
  MALFORMED: 'malformed input',
  UNSUPPORTED_VERSION: 'unsupported format version',
  DECRYPT_FAILED: 'decryption failed',
  DUPLICATE_MESSAGE: 'message was already received',
  TOO_BIG_MESSAGE_GAP: 'message is too far ahead of the chain',
  UNKNOWN_PREKEY: 'message uses an unknown prekey',
  TOO_LARGE: 'input is too large',
  WRONG_PASSPHRASE: 'wrong passphrase or damaged key file',
  STREAM_TRUNCATED: 'file stream ended before its final chunk',
  STREAM_CORRUPT: 'file stream chunk is corrupt or out of order',
};

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  /** `detail` must be a fixed, data-free phrase (which field, which check) — never a value. */
  constructor(code: CryptoErrorCode, detail?: string) {
    super(detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code]);
    this.code = code;
  }
}

export function isCryptoError(value: unknown, code?: CryptoErrorCode): value is CryptoError {
  return value instanceof CryptoError && (code === undefined || value.code === code);
}
