// The few platform globals the crypto library uses, declared here so the library compiles
// with neither DOM nor Node type definitions (it must run unchanged in both).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
