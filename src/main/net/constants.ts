/**
 * Limits and names of the network layer. Every value says why it is what it is; protocols keep
 * their own limits in their own constants.ts and fall back to these.
 */

// ── protocol ids ────────────────────────────────────────────────────────────────────────────

/** Own protocols live under `/parley/<name>/<semver>` (ARCHITECTURE.md §5). */
export const PROTOCOL_PREFIX = 'parley';

/** `protocolId('hello', '1.0.0')` → `/parley/hello/1.0.0`. */
export function protocolId(name: string, version: string): string {
  return `/${PROTOCOL_PREFIX}/${name}/${version}`;
}

/**
 * Kademlia protocol id. A Parley-only DHT: with the default `/ipfs/kad/1.0.0` one bootstrap to
 * a public node would join the IPFS Amino DHT, publishing our PeerId and addresses to thousands
 * of unrelated peers and pulling their traffic in. Our DHT holds only Parley peers and relays.
 */
export const DHT_PROTOCOL = protocolId('kad', '1.0.0');

// ── LAN discovery ───────────────────────────────────────────────────────────────────────────

/**
 * mDNS service tag. Not libp2p's `_p2p._udp.local`, so Parley nodes answer and find only each
 * other, not every IPFS/libp2p daemon on the LAN (fewer answers, less to dial, less exposure).
 * DNS-SD service labels are at most 15 characters; `_parley` fits.
 */
export const MDNS_SERVICE_TAG = '_parley._udp.local';

/**
 * mDNS query interval. Every node answers every query, so the LAN sees N² answers per round;
 * libp2p's 10 s default keeps that small. Discovery is still immediate on start: a starting
 * node queries at once and answers its own query, so existing nodes hear of it right away.
 */
export const MDNS_QUERY_INTERVAL_MS = 10_000;

// ── connections ─────────────────────────────────────────────────────────────────────────────

/**
 * Most open connections before libp2p prunes the least valuable. A desktop messenger talks to
 * dozens of contacts plus a few relays and DHT peers, not libp2p's 300; fewer sockets and
 * Noise sessions to hold on a laptop.
 */
export const MAX_CONNECTIONS = 128;

/**
 * Most distinct non-contact peers connected at once (inbound). Strangers may connect so they
 * can send a contact request over hello, but a flood of throwaway identities must not crowd
 * contacts out of MAX_CONNECTIONS: 32 leaves 96 slots that only contacts, relays we dial and
 * peers we dial ourselves can take.
 */
export const MAX_STRANGER_PEERS = 32;

/** Inbound connections still in the Noise/yamux upgrade at once (libp2p default; bounds handshake CPU). */
export const MAX_INCOMING_PENDING_CONNECTIONS = 10;

/** New inbound connections per second from one host before refusing more (libp2p default). */
export const INBOUND_CONNECTION_THRESHOLD = 5;

/** How long one dial, including the upgrade, may take (libp2p default; relays over mobile links). */
export const DIAL_TIMEOUT_MS = 10_000;

/** Peer-store tag that makes libp2p redial a bootstrap peer when it drops (prefix must be KEEP_ALIVE). */
export const BOOTSTRAP_TAG = 'keep-alive-parley-bootstrap';

/** Tag value of bootstrap peers: above untagged peers, so the pruner drops strangers first. */
export const BOOTSTRAP_TAG_VALUE = 50;

// ── relay server (relay mode only) ──────────────────────────────────────────────────────────

/** Reservations a relay holds at once: a community relay for a few dozen users with a few devices each. */
export const RELAY_MAX_RESERVATIONS = 128;

/** Reservation lifetime; clients refresh before it ends. One hour bounds stale slots after a client vanishes. */
export const RELAY_RESERVATION_TTL_MS = 60 * 60 * 1000;

/**
 * Per relayed connection: duration and data caps. The go-libp2p / js-libp2p defaults (2 min,
 * 128 KiB): sealed envelopes are a few KiB, so a relayed connection carries a burst of
 * messages, and a new one opens when needed; DCUtR upgrades to direct where it can.
 */
export const RELAY_CONNECTION_DURATION_LIMIT_MS = 2 * 60 * 1000;
export const RELAY_CONNECTION_DATA_LIMIT_BYTES = 128 * 1024;

// ── framing ─────────────────────────────────────────────────────────────────────────────────

/**
 * Default largest frame payload. Contact cards and sealed envelopes (padded to size buckets)
 * are far below 64 KiB; a protocol that needs more sets its own limit. It also fits in one
 * yamux receive window (256 KiB), so a whole frame never waits for a window update.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Hard ceiling for any protocol's frame limit: libp2p's default stream read buffer (4 MiB).
 * Larger payloads (files) must be chunked into frames, never sent as one.
 */
export const MAX_FRAME_BYTES_CEILING = 4 * 1024 * 1024;

/**
 * Time for one whole frame to arrive, counted from the start of the read, not per chunk: a
 * per-chunk timer would let a slowloris peer trickle one byte every few seconds forever.
 * 10 s is libp2p ping's timeout; 64 KiB in 10 s is ~6.5 KiB/s, slower than any usable relay.
 */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

// ── request / response ──────────────────────────────────────────────────────────────────────

/**
 * Deadline for a whole exchange (open, request, handler, response) on either side. Three read
 * timeouts: the request, the handler's work (a store transaction), the response.
 */
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 30_000;

/**
 * Concurrent inbound streams per connection for one protocol. Requests are short; four in
 * flight hides latency without letting one peer tie up many handlers (libp2p default is 32).
 */
export const DEFAULT_MAX_INBOUND_STREAMS = 4;

/** Concurrent outbound streams per connection for one protocol; a little above inbound so both sides agree. */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 8;

/**
 * Default per-peer request budget: bursts of 20 streams, refilled at 10 per second. Enough for
 * a contact request exchange or a catch-up of queued envelopes; a flood is cut off within a
 * fraction of a second. High-volume protocols (msg) pass their own.
 */
export const DEFAULT_RATE_LIMIT = { capacity: 20, refillPerSecond: 10 } as const;

/**
 * Extra tokens a framing violation (oversize, garbage, truncated, too slow) costs on top of the
 * stream's own token: a hostile peer is locked out after one or two bad frames, an honest one
 * never pays it.
 */
export const DEFAULT_VIOLATION_COST = 10;

/**
 * Most peers a rate limiter remembers. Beyond it the least recently seen is forgotten (it comes
 * back with a full bucket); reaching it takes thousands of identities, each a Noise handshake
 * that MAX_STRANGER_PEERS and the inbound connection limits already throttle.
 */
export const RATE_LIMIT_MAX_PEERS = 4096;
