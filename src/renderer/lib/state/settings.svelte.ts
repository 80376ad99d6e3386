/** The user's settings as the core stores them, and the theme they resolve to. */
import type { Settings } from '../../../shared';

export class SettingsState {
  #value = $state.raw<Settings | undefined>(undefined);

  get value(): Settings | undefined {
    return this.#value;
  }

  /** `light`/`dark` force a theme; `system` (and not loaded yet) follows the OS. */
  get theme(): Settings['theme'] {
    return this.#value?.theme ?? 'system';
  }

  /** The relays this device keeps reservations on (none until the user adds one). */
  get relays(): readonly string[] {
    return this.#value?.relays ?? [];
  }

  set(value: Settings): void {
    this.#value = value;
  }
}
