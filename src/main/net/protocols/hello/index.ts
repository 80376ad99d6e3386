/**
 * `/parley/hello/1.0.0`: card fetch and introductions, open to strangers but rate-limited.
 *
 * @example
 * ```ts
 * const hello = new Hello(node, { card: () => myCard, introduce: async (peerId, envelope) => 'pending' });
 * await hello.start();
 * const card = await hello.fetchCard(peerId, AbortSignal.timeout(5000));
 * ```
 */
export { Hello, type HelloHandlers } from './hello';
export * from './constants';
