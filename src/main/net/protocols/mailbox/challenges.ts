/**
 * The relay's outstanding challenges for owner operations. A challenge is 32 random bytes,
 * bound to the PeerId that asked for it and to one mailbox id, usable once, within its
 * lifetime. So a signature captured anywhere (a log, a compromised client) cannot be replayed:
 * not by its own peer (used up), not later (expired), not by another peer (bound).
 *
 * Memory is bounded: a few per peer (the oldest goes first) and a global cap (the oldest
 * goes first). Nothing here is persisted: a relay restart invalidates all challenges, and
 * clients just ask again.
 */
import { randomBytes, toHex } from '../../../../crypto';
import { MAILBOX_CHALLENGE_BYTES } from './constants';

export interface ChallengeLimits {
  ttlMs: number;
  maxPerPeer: number;
  maxTotal: number;
}

interface Entry {
  peer: string;
  mailbox: string;
  expiresAt: number;
}

export class Challenges {
  readonly #limits: ChallengeLimits;
  readonly #now: () => number;
  /** In issue order, so the first entry is the oldest (and, with one TTL, the first to expire). */
  readonly #entries = new Map<string, Entry>();
  readonly #byPeer = new Map<string, string[]>();

  constructor(limits: ChallengeLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh challenge for `peer` on `mailboxId`. */
  issue(peer: string, mailboxId: Uint8Array): Uint8Array {
    const now = this.#now();
    this.#pruneExpired(now);
    const mine = this.#byPeer.get(peer) ?? [];
    while (mine.length >= this.#limits.maxPerPeer) this.#delete(mine[0] as string);
    while (this.#entries.size >= this.#limits.maxTotal) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#delete(oldest.value);
    }
    const challenge = randomBytes(MAILBOX_CHALLENGE_BYTES);
    const key = toHex(challenge);
    this.#entries.set(key, { peer, mailbox: toHex(mailboxId), expiresAt: now + this.#limits.ttlMs });
    const list = this.#byPeer.get(peer) ?? [];
    list.push(key);
    this.#byPeer.set(peer, list);
    return challenge;
  }

  /**
   * True if `challenge` was issued to `peer` for `mailboxId` and is still fresh; it is used up
   * by this call either way. A challenge presented by another peer or for another mailbox is
   * refused without being used up, so a peer that learned someone else's challenge cannot
   * even spend it.
   */
  consume(challenge: Uint8Array, peer: string, mailboxId: Uint8Array): boolean {
    if (challenge.length !== MAILBOX_CHALLENGE_BYTES) return false;
    const key = toHex(challenge);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.peer !== peer || entry.mailbox !== toHex(mailboxId)) return false;
    this.#delete(key);
    return this.#now() < entry.expiresAt;
  }

  clear(): void {
    this.#entries.clear();
    this.#byPeer.clear();
  }

  #pruneExpired(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#delete(key);
    }
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    const list = this.#byPeer.get(entry.peer);
    if (list === undefined) return;
    const index = list.indexOf(key);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#byPeer.delete(entry.peer);
  }
}
