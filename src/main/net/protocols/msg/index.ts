/**
 * `/parley/msg/1.0.0`: batches of sealed envelopes between contacts, one status per envelope,
 * answered after the receiver's commit.
 *
 * @example
 * ```ts
 * const msg = new Msg(node, { isContact, deliver: async (peerId, envelopes) => envelopes.map(() => 'stored') });
 * await msg.start();
 * const statuses = await msg.send(peerId, [envelope], AbortSignal.timeout(10_000));
 * ```
 */
export { Msg, decodeBatch, encodeBatch, type MsgHandlers } from './msg';
export * from './constants';
