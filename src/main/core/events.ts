/**
 * The core's event bus: typed by the contract's EVENTS map. Transports subscribe and forward
 * events to their UI; the core emits after the change they announce is committed.
 */
import type { EventName, EventPayload } from '../../shared';

export type EventListener<E extends EventName> = (payload: EventPayload<E>) => void;
export type AnyEventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export class EventBus {
  readonly #listeners = new Set<AnyEventListener>();

  /** Subscribes to every event; returns the function that unsubscribes. */
  subscribe(listener: AnyEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to one event. */
  on<E extends EventName>(event: E, listener: EventListener<E>): () => void {
    return this.subscribe((name: EventName, payload) => {
      if (name === (event as EventName)) (listener as EventListener<EventName>)(payload);
    });
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, payload);
      } catch {
        // A failing subscriber (a closed window, a dropped socket) must not stop the others.
      }
    }
  }
}
