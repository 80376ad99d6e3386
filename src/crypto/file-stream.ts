/**
 * Chunked file encryption: libsodium crypto_secretstream_xchacha20poly1305 under a random
 * per-file key.
 *
 * The stream header (24 bytes) goes first, then one ciphertext per chunk, each ABYTES (17)
 * longer than its plaintext. secretstream authenticates every chunk together with its position
 * (an internal counter), so a reordered, duplicated, dropped or foreign chunk fails to decrypt;
 * the last chunk carries TAG_FINAL, so a stream cut at a chunk boundary is detected as
 * truncated. Every other chunk carries TAG_MESSAGE; any other tag is refused.
 *
 * A chunk that fails leaves the decryptor as it was (the state advances only after a chunk
 * authenticates), so the caller decides whether to abort; it must never use output it did not
 * get from `pull`.
 */
import { concatBytes } from './bytes';
import { CryptoError } from './errors';
import { SYMMETRIC_KEY_BYTES, SecretKey, type FileKey } from './keys';
import { randomBytes } from './random';
import { sodium, type Sodium } from './sodium';

/**
 * Plaintext bytes per chunk. Large enough that the 17-byte per-chunk overhead (0.03 %) and the
 * per-chunk WebAssembly call are negligible; small enough that sender and receiver each hold
 * one chunk in memory and a corrupt or foreign chunk is caught after at most 64 KiB. A protocol
 * that carries files must admit frames of FILE_CHUNK_BYTES + FILE_CHUNK_OVERHEAD_BYTES.
 */
export const FILE_CHUNK_BYTES = 64 * 1024;
/** crypto_secretstream_xchacha20poly1305_HEADERBYTES. */
export const FILE_HEADER_BYTES = 24;
/** crypto_secretstream_xchacha20poly1305_ABYTES: one tag byte plus the Poly1305 MAC. */
export const FILE_CHUNK_OVERHEAD_BYTES = 17;
const MAX_CIPHERTEXT_CHUNK_BYTES = FILE_CHUNK_BYTES + FILE_CHUNK_OVERHEAD_BYTES;

type StreamState = ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_pull']>;

/** A fresh random key for one file. Never reuse it for a second file. */
export function generateFileKey(): FileKey {
  return new SecretKey('file', randomBytes(SYMMETRIC_KEY_BYTES));
}

export class FileEncryptor {
  readonly header: Uint8Array;
  readonly #state: StreamState;
  #finished = false;

  constructor(key: FileKey) {
    // init_push is defined as "header = randombytes_buf(24); then exactly init_pull(header)"
    // (libsodium secretstream_xchacha20poly1305.c), and push and pull share one state type.
    // Drawing the header here keeps all randomness in random.ts (ARCHITECTURE.md §10) and
    // lets tests pin the format; the test suite checks the equivalence against init_push.
    this.header = randomBytes(FILE_HEADER_BYTES);
    this.#state = sodium().crypto_secretstream_xchacha20poly1305_init_pull(this.header, key.expose());
  }

  /** Encrypts one chunk of at most FILE_CHUNK_BYTES; the last one is pushed with `final`. */
  push(chunk: Uint8Array, final: boolean): Uint8Array {
    if (this.#finished) throw new CryptoError('STREAM_CORRUPT', 'push after the final chunk');
    if (chunk.length > FILE_CHUNK_BYTES) throw new CryptoError('TOO_LARGE', 'file chunk');
    const s = sodium();
    const tag = final
      ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    const out = s.crypto_secretstream_xchacha20poly1305_push(this.#state, chunk, null, tag);
    if (final) this.#finished = true;
    return out;
  }
}

export class FileDecryptor {
  readonly #state: StreamState;
  #finished = false;
  /** Set once the libsodium state advanced past a chunk we refused; nothing can follow. */
  #broken = false;

  /** MALFORMED for a header of the wrong length; a wrong key shows at the first `pull`. */
  constructor(key: FileKey, header: Uint8Array) {
    if (header.length !== FILE_HEADER_BYTES) throw new CryptoError('MALFORMED', 'file stream header length');
    this.#state = sodium().crypto_secretstream_xchacha20poly1305_init_pull(header, key.expose());
  }

  /** True once the chunk tagged final has been pulled. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Decrypts the next chunk. STREAM_CORRUPT for a chunk that does not authenticate at this
   * position (altered, reordered, duplicated, foreign, wrong key), has an impossible length, or
   * arrives after the final chunk.
   */
  pull(chunk: Uint8Array): Uint8Array {
    if (this.#finished) throw new CryptoError('STREAM_CORRUPT', 'chunk after the final chunk');
    if (this.#broken) throw new CryptoError('STREAM_CORRUPT', 'stream already failed');
    // Checked before libsodium allocates: no chunk of this format is shorter or longer.
    if (chunk.length < FILE_CHUNK_OVERHEAD_BYTES || chunk.length > MAX_CIPHERTEXT_CHUNK_BYTES) {
      throw new CryptoError('STREAM_CORRUPT', 'chunk length');
    }
    const s = sodium();
    const result = s.crypto_secretstream_xchacha20poly1305_pull(this.#state, chunk, null);
    if (result === false) throw new CryptoError('STREAM_CORRUPT', 'chunk did not authenticate');
    if (result.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      this.#finished = true;
    } else if (result.tag !== s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
      // Authentic but never written by FileEncryptor (PUSH or REKEY, which already rekeyed the
      // state): only a holder of the key can make it, and the stream cannot continue.
      this.#broken = true;
      throw new CryptoError('STREAM_CORRUPT', 'unexpected chunk tag');
    }
    return result.message;
  }

  /** Call after the last chunk: STREAM_TRUNCATED if the final chunk never came. */
  finish(): void {
    if (!this.#finished) throw new CryptoError('STREAM_TRUNCATED');
  }
}

export interface EncryptedFile {
  readonly header: Uint8Array;
  readonly chunks: Uint8Array[];
}

/** Encrypts a whole in-memory file: FILE_CHUNK_BYTES per chunk, at least one (final) chunk. */
export function encryptFile(key: FileKey, data: Uint8Array): EncryptedFile {
  const encryptor = new FileEncryptor(key);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  do {
    const end = Math.min(offset + FILE_CHUNK_BYTES, data.length);
    chunks.push(encryptor.push(data.subarray(offset, end), end === data.length));
    offset = end;
  } while (offset < data.length);
  return { header: encryptor.header, chunks };
}

/** Decrypts a whole file; the typed errors of FileDecryptor, STREAM_TRUNCATED if it ends early. */
export function decryptFile(key: FileKey, header: Uint8Array, chunks: readonly Uint8Array[]): Uint8Array {
  const decryptor = new FileDecryptor(key, header);
  const parts = chunks.map((chunk) => decryptor.pull(chunk));
  decryptor.finish();
  return concatBytes(...parts);
}
