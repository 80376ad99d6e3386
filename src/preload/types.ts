/**
 * The shape of `window.parley`, the bridge the preload exposes to the renderer. Built only from
 * the contract's types (src/shared), so `src/renderer/lib/api.ts` can hold it as a `ClientApi`:
 *
 * @example
 * ```ts
 * import type { ParleyBridge } from '../../preload/types';
 * const bridge = (window as { parley?: ParleyBridge }).parley;
 * if (bridge) {
 *   const api: ClientApi = bridge.api;
 *   const result = await api['messages.send']({ conversationId, body });   // Result<Message>
 *   const off = bridge.onEvent((event, payload) => {
 *     if (event === 'message.received') console.log(payload.message.id);    // payload narrowed
 *   });
 * }
 * ```
 */
import type { ClientApi, CommandArgs, CommandName, CommandResult, EventName, EventPayload, Result } from '../shared';

/**
 * One event as the listener receives it: `(name, payload)`, narrowed together by `name`. Write
 * listeners with both parameters (`(event, payload) => …`); TypeScript then narrows `payload`
 * when you test `event`.
 */
export type BridgeEvent = { [E in EventName]: [event: E, payload: EventPayload<E>] }[EventName];

export type BridgeEventListener = (...event: BridgeEvent) => void;

export interface ParleyBridge {
  /** One function per contract command, keyed by its name (`api['contacts.list']({})`). */
  readonly api: ClientApi;
  /** The same, by name. Never rejects: transport failures come back as `{ ok: false }`. */
  readonly invoke: <C extends CommandName>(command: C, args: CommandArgs<C>) => Promise<Result<CommandResult<C>>>;
  /** Subscribes to every core event; returns the function that unsubscribes. */
  readonly onEvent: (listener: BridgeEventListener) => () => void;
}
