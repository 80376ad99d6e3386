/**
 * Limits of the headless HTTP + WebSocket transport. The only legitimate client is the Parley
 * UI in a browser tab on this machine, so every bound is set well above what that UI does and
 * well below what would let a runaway or hostile local client hurt the core.
 */
import { MAX_WS_FRAME_BYTES } from '../../shared';

/** The only interface we listen on (ARCHITECTURE.md §8): never 0.0.0.0, never ::. */
export const LOOPBACK_HOST = '127.0.0.1';

/** The one WebSocket path; every other upgrade target is refused. */
export const API_PATH = '/api';

/** 256-bit token: unguessable for the lifetime of one server (a fresh one per start). */
export const TOKEN_BYTES = 32;

/** Largest inbound WebSocket message: the contract's frame bound (a message body + framing). */
export const MAX_FRAME_BYTES = MAX_WS_FRAME_BYTES;

/**
 * Concurrent WebSocket connections. A user has one or two tabs open; a reload briefly holds two
 * more. Past this a looping client would only pile up subscribers on the event bus.
 */
export const MAX_CONNECTIONS = 16;

/**
 * Token bucket per socket: burst and refill in frames. A person clicks a few times a second and
 * the UI's start-up burst is a dozen queries; tests and benchmarks that drive a peer through
 * this socket send up to a couple of thousand messages back to back, which must not be refused.
 * The bound stops a tight loop from queueing unbounded work on the core.
 */
export const RATE_LIMIT_BURST = 2_000;
export const RATE_LIMIT_PER_SECOND = 2_000;

/**
 * Requests dispatched and not yet answered, per socket. Beyond this a request is answered
 * RATE_LIMITED at once, so memory held for pending work stays bounded.
 */
export const MAX_IN_FLIGHT = 2_048;

/**
 * Malformed frames (not JSON, not a request frame, binary) a socket may send before it is
 * closed with 1008 (policy violation). The real UI never sends one; a few are tolerated so a
 * bug in one code path shows up as error responses rather than a dead connection.
 */
export const MAX_BAD_FRAMES = 8;

/**
 * Bytes queued for a socket that is not reading. A single response may be large (a page of
 * 200 long messages is ~12 MB of JSON), so the check is made before each send: a socket that
 * still holds more than this when the next frame is due is dropped; the UI reconnects and
 * re-queries instead of the server buffering without bound.
 */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Liveness ping interval; a socket that missed the previous pong is terminated. */
export const HEARTBEAT_INTERVAL_MS = 30_000;

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;
