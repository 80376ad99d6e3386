import sodiumModule from 'libsodium-wrappers-sumo';
import { CryptoError } from './errors';
import { setRandomSource, type RandomSource } from './random';

export type Sodium = typeof sodiumModule;

let ready = false;

export interface InitOptions {
  /** Overrides the random source (tests pin wire formats with a deterministic one). */
  random?: RandomSource;
}

/**
 * The only asynchronous call of the crypto library: loads libsodium's WebAssembly. Everything
 * else is synchronous and may be called once this resolves. Safe to call more than once.
 */
export async function initCrypto(options: InitOptions = {}): Promise<void> {
  await sodiumModule.ready;
  ready = true;
  if (options.random) setRandomSource(options.random);
}

/** The loaded libsodium; throws NOT_INITIALIZED before initCrypto() resolved. */
export function sodium(): Sodium {
  if (!ready) throw new CryptoError('NOT_INITIALIZED');
  return sodiumModule;
}
