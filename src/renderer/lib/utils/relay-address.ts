/**
 * Relay addresses in the settings: a quick check of a pasted address before it goes to the
 * core (which parses it fully and has the last word), a short form for lists, and the words
 * for the core's refusal.
 *
 * @example
 * ```ts
 * checkNewRelay(' /ip4/198.51.100.7/tcp/4001/p2p/12D3KooW… ', current); // { ok: true, address: '/ip4/…' }
 * shortRelayAddress('/dns4/relay.example.org/tcp/4001/p2p/12D3KooWAbc…xyz'); // '/dns4/relay.example.org/tcp/4001/p2p/12D3KooW…Fxyz12'
 * ```
 */
import { MAX_RELAY_ADDRESS_CHARS, MAX_RELAYS, RelayAddress, type ApiError } from '../../../shared';
import { errorText } from './error-text';
import { shortPeerId } from './format';

export type RelayCheck = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly reason: string };

/** The PeerId at the end of a relay address (after its last /p2p/), or undefined. */
export function relayPeerIdOf(address: string): string | undefined {
  const index = address.lastIndexOf('/p2p/');
  if (index === -1) return undefined;
  const id = address.slice(index + '/p2p/'.length);
  return id === '' || id.includes('/') ? undefined : id;
}

/**
 * Checks a pasted relay address against the relays already configured: the API's own shape
 * rule (RelayAddress: printable, slash-separated, ending in /p2p/<peerId>), not a circuit
 * address, not a relay already on the list, and room left under MAX_RELAYS. Reasons are
 * sentences for the person typing; the address itself is returned trimmed.
 */
export function checkNewRelay(text: string, current: readonly string[]): RelayCheck {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'Paste a relay address first.' };
  if (current.length >= MAX_RELAYS) return { ok: false, reason: `At most ${MAX_RELAYS} relays; remove one first.` };
  if (trimmed.length > MAX_RELAY_ADDRESS_CHARS) return { ok: false, reason: `That is too long for a relay address (at most ${MAX_RELAY_ADDRESS_CHARS} characters).` };
  const parsed = RelayAddress.safeParse(trimmed);
  if (!parsed.success) {
    if (!trimmed.startsWith('/')) return { ok: false, reason: 'A relay address starts with “/”, like /dns4/relay.example.org/tcp/4001/p2p/12D3KooW…' };
    return { ok: false, reason: 'A relay address must end in /p2p/ and the relay’s peer id.' };
  }
  const address = parsed.data;
  if (address.split('/').includes('p2p-circuit')) return { ok: false, reason: 'That is an address through a relay, not the address of a relay.' };
  const id = relayPeerIdOf(address);
  if (id !== undefined && current.some((other) => relayPeerIdOf(other) === id)) return { ok: false, reason: 'That relay is already on the list.' };
  return { ok: true, address };
}

/** A relay address with its (long) peer id shortened, for a list row; the full value goes in a title. */
export function shortRelayAddress(address: string): string {
  const id = relayPeerIdOf(address);
  return id === undefined ? address : `${address.slice(0, address.length - id.length)}${shortPeerId(id)}`;
}

/**
 * What to say when the core refuses a relay list. Its INVALID_ARGUMENT messages for relays are
 * typed and data-free ("relays.0: a relay address must end in /p2p/<peerId>": a position and a
 * rule, never the value), so the rule is shown; anything else gets the words for its code.
 */
export function relayErrorText(error: ApiError): string {
  if (error.code !== 'INVALID_ARGUMENT') return errorText(error);
  const rule = /^relays(?:\.\d+)?: (.{1,160})$/.exec(error.message)?.[1] ?? /^(at most \d+ relays)$/.exec(error.message)?.[1];
  if (rule === undefined) return errorText(error);
  return `The relay was not accepted: ${rule}.`;
}
