import { protocolId } from '../../constants';

/** Strangers' only way in: fetch a card, or introduce yourself (ARCHITECTURE.md §5). */
export const HELLO_PROTOCOL = protocolId('hello', '1.0.0');

/** A request is a type byte and at most one sealed envelope (≤ 64 KiB, the largest bucket). */
export const HELLO_MAX_REQUEST_BYTES = 64 * 1024 + 16;
/** A response is a contact card (≤ 4 KiB, see contacts/card.ts) or a status byte. */
export const HELLO_MAX_RESPONSE_BYTES = 4096 + 16;
/**
 * Per-peer budget: a burst of 10 then one exchange every 2 s. Nearby discovery needs one card
 * fetch per peer, a request one introduction; a flood from one PeerId is cut off at once.
 */
export const HELLO_RATE_LIMIT = { capacity: 10, refillPerSecond: 0.5 } as const;
/** Introductions decrypt and write to the store: a few seconds is plenty even on a slow disk. */
export const HELLO_TIMEOUT_MS = 10_000;

export const HELLO_TYPE = { getCard: 1, introduce: 2 } as const;

/** What an introduction led to on the other side. */
export const INTRODUCE_STATUS = { accepted: 0, pending: 1, rejected: 2 } as const;
export type IntroduceStatus = keyof typeof INTRODUCE_STATUS;
