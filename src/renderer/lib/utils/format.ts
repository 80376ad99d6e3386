/**
 * Formatting for display: times, day labels, safety numbers, peer ids.
 */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

const DAY_MS = 86_400_000;

function startOfDay(at: number): number {
  const d = new Date(at);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

export function formatTime(at: number): string {
  return timeFormat.format(at);
}

export function formatFull(at: number): string {
  return fullFormat.format(at);
}

/** "Today", "Yesterday", a weekday within the last week, else the full date. */
export function formatDay(at: number, now: number = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(at)) / DAY_MS);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return weekdayFormat.format(at);
  return dateFormat.format(at);
}

/** Conversation list timestamps: the time today, else a short date. */
export function formatListTime(at: number, now: number = Date.now()): string {
  return startOfDay(at) === startOfDay(now) ? timeFormat.format(at) : shortDateFormat.format(at);
}

/** The 60-digit safety number as 12 groups of 5, the way Signal shows it. */
export function safetyNumberGroups(digits: string): string[] {
  return digits.match(/\d{1,5}/g) ?? [];
}

/** "12D3KooW…AbCdEf": enough to tell peers apart, short enough for a row. */
export function shortPeerId(peerId: string): string {
  return peerId.length <= 16 ? peerId : `${peerId.slice(0, 8)}…${peerId.slice(-6)}`;
}
