/**
 * Who is signed in and whether the core can be reached: drives which top-level screen shows.
 */
import type { IdentityStatus, Profile } from '../../../shared';
import type { ConnectionState } from '../api';

/**
 * - `loading`: waiting for the first `identity.status`;
 * - `onboarding`: no identity yet; `locked`: one exists, needs the passphrase;
 * - `ready`: unlocked, the main screen shows; `unreachable`: the core did not answer.
 */
export type Phase = 'loading' | 'onboarding' | 'locked' | 'ready' | 'unreachable';

export class SessionState {
  #phase = $state<Phase>('loading');
  #profile = $state.raw<Profile | undefined>(undefined);
  #keychainAvailable = $state(false);
  #connection = $state<ConnectionState>('connecting');

  get phase(): Phase {
    return this.#phase;
  }
  get profile(): Profile | undefined {
    return this.#profile;
  }
  get keychainAvailable(): boolean {
    return this.#keychainAvailable;
  }
  get connection(): ConnectionState {
    return this.#connection;
  }

  applyStatus(status: IdentityStatus): void {
    this.#keychainAvailable = status.keychainAvailable;
    if (status.profile) this.#profile = status.profile;
    this.#phase = status.state === 'none' ? 'onboarding' : status.state === 'locked' ? 'locked' : 'ready';
  }

  signedIn(profile: Profile): void {
    this.#profile = profile;
    this.#phase = 'ready';
  }

  setProfile(profile: Profile): void {
    this.#profile = profile;
  }

  /** The core answered LOCKED to something: it was locked behind our back (e.g. restarted). */
  lockedOut(): void {
    if (this.#phase === 'ready') this.#phase = 'locked';
  }

  unreachable(): void {
    if (this.#phase === 'loading') this.#phase = 'unreachable';
  }

  setConnection(state: ConnectionState): void {
    this.#connection = state;
  }
}
