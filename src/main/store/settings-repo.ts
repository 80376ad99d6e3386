/**
 * Small preferences as string values (JSON when structured). Not for secrets that must outlive
 * a passphrase change differently from the rest: everything here shares the database key.
 */
import { MAX_SETTING_KEY_BYTES, MAX_SETTING_VALUE_BYTES } from './constants';
import type { Db } from './database';
import { checkText, text } from './validate';

export class SettingsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(key: string): string | undefined {
    checkText(key, 'setting key', MAX_SETTING_KEY_BYTES, false);
    const row = this.#db.get('SELECT value FROM settings WHERE key = ?', [key]);
    return row && text(row, 'value');
  }

  set(key: string, value: string): void {
    checkText(key, 'setting key', MAX_SETTING_KEY_BYTES, false);
    checkText(value, 'setting value', MAX_SETTING_VALUE_BYTES);
    this.#db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  delete(key: string): boolean {
    checkText(key, 'setting key', MAX_SETTING_KEY_BYTES, false);
    return this.#db.run('DELETE FROM settings WHERE key = ?', [key]) > 0;
  }
}
