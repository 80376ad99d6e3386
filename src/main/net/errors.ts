/**
 * Named errors of the network layer, shaped like `@libp2p/interface` errors.ts: one small class
 * each, a default message, and a static `name` so callers match on `err.name` (which survives
 * crossing module copies, unlike `instanceof`). Messages never contain frame bytes, peer ids
 * or anything else a peer sent.
 */

/** A frame declared a length above the limit; raised from the length prefix, before any allocation. */
export class FrameTooLargeError extends Error {
  static override name = 'FrameTooLargeError';
  constructor(message = 'Frame exceeds the size limit') {
    super(message);
    this.name = 'FrameTooLargeError';
  }
}

/** A whole frame did not arrive within the read timeout (slow or stalled peer). */
export class FrameTimeoutError extends Error {
  static override name = 'FrameTimeoutError';
  constructor(message = 'Timed out reading a frame') {
    super(message);
    this.name = 'FrameTimeoutError';
  }
}

/** The stream ended inside a frame, or before a frame that had to come. */
export class TruncatedFrameError extends Error {
  static override name = 'TruncatedFrameError';
  constructor(message = 'Stream ended inside a frame') {
    super(message);
    this.name = 'TruncatedFrameError';
  }
}

/** Bytes that are not a valid frame: a non-minimal length prefix, or a frame where none may be. */
export class InvalidFrameError extends Error {
  static override name = 'InvalidFrameError';
  constructor(message = 'Invalid frame') {
    super(message);
    this.name = 'InvalidFrameError';
  }
}

/** The remote peer is not admitted to this protocol (for example a stranger on a contacts-only protocol). */
export class PeerNotAdmittedError extends Error {
  static override name = 'PeerNotAdmittedError';
  constructor(message = 'Peer is not admitted to this protocol') {
    super(message);
    this.name = 'PeerNotAdmittedError';
  }
}

/** The remote peer has used up its request budget on this protocol. */
export class RateLimitedError extends Error {
  static override name = 'RateLimitedError';
  constructor(message = 'Too many requests from this peer') {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** The device key bytes are not a protobuf-encoded Ed25519 libp2p private key. */
export class InvalidDeviceKeyError extends Error {
  static override name = 'InvalidDeviceKeyError';
  constructor(message = 'Device key must be a protobuf-encoded Ed25519 libp2p private key') {
    super(message);
    this.name = 'InvalidDeviceKeyError';
  }
}

/** No connection to the peer and no known address: it cannot be dialled now. */
export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError';
  constructor(message = 'Peer is not connected and has no known address') {
    super(message);
    this.name = 'PeerUnreachableError';
  }
}

/** Errors that mean the remote peer broke the framing rules; request handlers penalise them. */
export const PEER_VIOLATION_ERRORS: ReadonlySet<string> = new Set([
  FrameTooLargeError.name,
  FrameTimeoutError.name,
  TruncatedFrameError.name,
  InvalidFrameError.name,
]);

/** Wraps anything thrown into an Error without copying its message into a new one. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error('Non-error thrown');
}
