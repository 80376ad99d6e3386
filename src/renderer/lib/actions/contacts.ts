/** Contact requests, invites, safety numbers and trust decisions. */
import type { AppContext } from '../context';
import { plainLabel } from '../utils/display-text';
import { errorText } from '../utils/error-text';
import { refreshConversations } from './messages';
import { reportError } from './report';

export async function requestContact(ctx: AppContext, peerId: string): Promise<void> {
  const result = await ctx.client.api['contacts.request']({ peerId });
  if (!result.ok) return reportError(ctx, result.error, 'Request not sent');
  ctx.contacts.upsertRequest(result.value);
  ctx.ui.notify('info', `Request sent to ${plainLabel(result.value.displayName, 64)}.`);
}

export async function acceptRequest(ctx: AppContext, requestId: string): Promise<void> {
  const result = await ctx.client.api['contacts.accept']({ requestId });
  if (!result.ok) return reportError(ctx, result.error, 'Could not accept');
  ctx.contacts.removeRequest(requestId);
  ctx.contacts.upsertContact(result.value);
  // Nearby too: its row for this peer now links to the contact instead of offering "Add".
  await Promise.all([refreshConversations(ctx), refreshNearby(ctx)]);
}

export async function declineRequest(ctx: AppContext, requestId: string): Promise<void> {
  const result = await ctx.client.api['contacts.decline']({ requestId });
  if (!result.ok) return reportError(ctx, result.error, 'Could not decline');
  ctx.contacts.removeRequest(requestId);
}

/** Returns an error text for the form, or undefined when the contact was added. */
export async function addFromInvite(ctx: AppContext, link: string): Promise<string | undefined> {
  const trimmed = link.trim();
  if (!trimmed.startsWith('parley://invite/')) return 'An invite link starts with parley://invite/';
  const result = await ctx.client.api['contacts.addFromInvite']({ link: trimmed });
  if (!result.ok) {
    if (result.error.code === 'LOCKED') ctx.session.lockedOut();
    return result.error.code === 'INVALID_ARGUMENT' ? 'That invite link is not valid.' : errorText(result.error);
  }
  ctx.contacts.upsertContact(result.value);
  await refreshConversations(ctx);
  ctx.ui.notify('info', `${plainLabel(result.value.displayName, 64)} added.`);
  return undefined;
}

export async function loadSafetyNumber(ctx: AppContext, contactId: string): Promise<void> {
  const result = await ctx.client.api['contacts.safetyNumber']({ contactId });
  if (!result.ok) return reportError(ctx, result.error, 'Could not load the safety number');
  ctx.contacts.setSafetyNumber(contactId, result.value);
}

export async function setVerified(ctx: AppContext, contactId: string, verified: boolean): Promise<void> {
  const result = await ctx.client.api['contacts.setVerified']({ contactId, verified });
  if (!result.ok) return reportError(ctx, result.error);
  ctx.contacts.upsertContact(result.value);
  ctx.conversations.applyContact(result.value);
}

export async function setBlocked(ctx: AppContext, contactId: string, blocked: boolean): Promise<void> {
  const result = await ctx.client.api['contacts.setBlocked']({ contactId, blocked });
  if (!result.ok) return reportError(ctx, result.error);
  ctx.contacts.upsertContact(result.value);
}

/** The user read the key-change notice and accepts the new identity key. */
export async function acceptKeyChange(ctx: AppContext, contactId: string): Promise<void> {
  const result = await ctx.client.api['contacts.acceptKeyChange']({ contactId });
  if (!result.ok) return reportError(ctx, result.error);
  ctx.contacts.upsertContact(result.value);
  ctx.conversations.applyContact(result.value);
  await loadSafetyNumber(ctx, contactId);
}

export async function refreshNearby(ctx: AppContext): Promise<void> {
  const [nearby, requests] = await Promise.all([ctx.client.api['nearby.list']({}), ctx.client.api['contacts.requests']({})]);
  if (nearby.ok) ctx.contacts.replaceNearby(nearby.value);
  if (requests.ok) ctx.contacts.replaceRequests(requests.value);
}
