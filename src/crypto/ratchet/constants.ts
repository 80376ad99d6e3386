/**
 * Limits of the Double Ratchet. Each one bounds what a peer (or a lost burst of messages) can
 * make us compute or store; the Signal spec §3.2 asks for MAX_SKIP without fixing a value.
 */

/**
 * Most message keys one incoming message may make us derive in one chain (Signal spec
 * MAX_SKIP). Two HMACs per key: 2,000 keys cost a few ms, so a hostile header cannot buy much
 * CPU, while a contact may still queue 2,000 messages that arrive out of order (mailbox
 * fetches, retries). A larger gap is refused before any key is derived.
 */
export const MAX_FORWARD_JUMP = 2000;

/**
 * Most skipped message keys kept per session, oldest evicted first. Each costs 68 bytes in the
 * serialized state (key, counter, message key), so the state stays under ~140 KB even when a
 * peer skips deliberately; libsignal keeps the same number (MAX_MESSAGE_KEYS = 2000).
 */
export const MAX_SKIPPED_KEYS = 2000;

/**
 * Receiving chains kept after the remote ratchets, so late messages of its previous sending
 * chains still decrypt. Five is libsignal's MAX_RECEIVER_CHAINS: a message older than five
 * round trips is late enough to be treated as lost.
 */
export const MAX_RECEIVER_CHAINS = 5;

/**
 * Largest plaintext one ratchet message carries: 64 KiB less room for the ratchet header,
 * the prekey prefix and the envelope, so every message fits the largest envelope bucket.
 * Larger content (files) goes through file streams, not through the ratchet.
 */
export const MAX_PLAINTEXT_BYTES = 64 * 1024 - 512;

export const RATCHET_STATE_VERSION = 1;
