/**
 * Core events into state. Exhaustive: a new event in the contract fails the type check here
 * until it is handled.
 */
import type { ApiEvent } from '../api';
import type { AppContext } from '../context';
import { displayLabel } from '../utils/display-text';
import { addMessage } from './messages';
import { notifyContactRequest, notifyMessage } from './notify';

export function handleEvent(ctx: AppContext, ...[event, payload]: ApiEvent): void {
  switch (event) {
    case 'message.received': {
      const isNew = addMessage(ctx, payload.message);
      if (!isNew || payload.message.direction !== 'in') return;
      if (ctx.ui.conversationId === payload.message.conversationId) {
        const title = ctx.conversations.byId(payload.message.conversationId)?.title ?? 'Contact';
        ctx.ui.announce(`${displayLabel(title)}: ${displayLabel(payload.message.body).slice(0, 300)}`);
      }
      notifyMessage(ctx, payload.message);
      return;
    }
    case 'message.stateChanged':
      ctx.messages.get(payload.conversationId)?.updateState(payload.messageId, payload.state, payload.path);
      return;
    case 'contact.request':
      ctx.contacts.upsertRequest(payload.request);
      if (payload.request.direction === 'incoming') notifyContactRequest(ctx, payload.request.displayName);
      return;
    case 'contact.updated': {
      ctx.contacts.upsertContact(payload.contact);
      ctx.conversations.applyContact(payload.contact);
      // A contact we have no conversation for is new (our request was accepted, or an invite
      // was used): the conversation list and the pending requests both changed.
      if (!ctx.conversations.byContact(payload.contact.id)) void refreshLists(ctx);
      return;
    }
    case 'contact.keyChanged':
      ctx.contacts.setKeyChanged(payload.contactId);
      ctx.conversations.setKeyChanged(payload.contactId);
      return;
    case 'presence.changed':
      ctx.contacts.setOnline(payload.contactId, payload.online);
      return;
    case 'nearby.changed':
      ctx.contacts.replaceNearby(payload.peers);
      return;
    case 'network.status':
      ctx.network.set(payload);
      return;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * A contact appeared that we have no conversation for: the lists changed under us (Nearby too:
 * its row for that peer now links to the contact instead of offering "Add").
 */
async function refreshLists(ctx: AppContext): Promise<void> {
  const [conversations, requests, nearby] = await Promise.all([
    ctx.client.api['conversations.list']({}),
    ctx.client.api['contacts.requests']({}),
    ctx.client.api['nearby.list']({}),
  ]);
  if (conversations.ok) ctx.conversations.replaceAll(conversations.value);
  if (requests.ok) ctx.contacts.replaceRequests(requests.value);
  if (nearby.ok) ctx.contacts.replaceNearby(nearby.value);
}
