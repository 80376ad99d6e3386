/**
 * Secret bytes read back from the store (serialized key pairs, ratchet states): a wrapper that
 * keeps them out of `toString`, `JSON.stringify` and Node's inspector, so logging a row by
 * mistake prints `[SecretBytes]` and not a key. The bytes are reached only through `expose()`,
 * to hand them to the crypto library's deserializers.
 */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class SecretBytes {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes, for crypto `deserialize*` calls. Never log or persist them elsewhere. */
  expose(): Uint8Array {
    return this.#bytes;
  }

  /** Overwrites the bytes once they have been deserialized. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return '[SecretBytes]';
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}
