/** What the network panel shows: own addresses, connections, relay reservations, LAN discovery. */
import type { NetworkStatus } from '../../../shared';

export class NetworkState {
  #status = $state.raw<NetworkStatus | undefined>(undefined);
  #updatedAt = $state(0);

  get status(): NetworkStatus | undefined {
    return this.#status;
  }
  get updatedAt(): number {
    return this.#updatedAt;
  }

  set(status: NetworkStatus, at: number = Date.now()): void {
    this.#status = status;
    this.#updatedAt = at;
  }
}
