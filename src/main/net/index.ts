/**
 * The network layer: the only code that imports libp2p (STYLE.md, "Core").
 *
 * - `createParleyNode` builds the libp2p node (node.ts); it comes back unstarted.
 * - `RequestResponse` / `request` carry one framed request and one framed response per stream
 *   (request-response.ts) over the length-prefixed, size-limited frames of framing.ts.
 * - `admitContacts` / `admitAnyone` are the protocol admission policies; the connection
 *   gater (gater.ts) blocks blocked peers and caps strangers.
 * - Each Parley protocol gets a folder `protocols/<name>/` with `index.ts` (interface and
 *   factory), `<name>.ts` (one start/stop class wrapping a RequestResponse and a codec) and
 *   `constants.ts` (id and limits, each with its reason), shaped like `@libp2p/ping`.
 *
 * Plain-Node entries must `import '../polyfills'` (src/main/polyfills.ts) before this module
 * on Node 20; node.ts imports it as well.
 *
 * @example
 * ```ts
 * import { admitContacts, createParleyNode, generateDeviceKey, protocolId, RequestResponse } from './net';
 *
 * const node = await createParleyNode({
 *   privateKey: await generateDeviceKey(), // persist it: it is the device's PeerId
 *   listen: ['/ip4/0.0.0.0/tcp/0'],
 *   lan: true,
 *   isContact: (peerId) => contacts.has(peerId.toString()),
 * });
 * const echo = new RequestResponse({ host: node }, {
 *   protocol: protocolId('echo', '1.0.0'),
 *   admit: admitContacts((peerId) => contacts.has(peerId.toString())),
 *   handler: (request) => request,
 *   runOnLimitedConnection: true,
 * });
 * await echo.start();
 * await node.start();
 * const reply = await echo.request(contactPeerId, new TextEncoder().encode('hi'), { signal });
 * ```
 */
export * from './constants';
export * from './errors';
export { FrameDecoder, FrameReader, encodeFrame, encodeFrameHeader, readFrame, varintLength, writeFrame } from './framing';
export type { FrameLimits, FrameReadOptions, FrameStream } from './framing';
export { admitAnyone, admitContacts, createConnectionGater } from './gater';
export type { Admit, ConnectionGaterInit } from './gater';
export { createParleyNode, generateDeviceKey, peerIdFromDeviceKey } from './node';
export type { ConnectionLimits, ParleyNode, ParleyNodeOptions, ParleyServices, RelayServerLimits } from './node';
export { RateLimiter } from './rate-limit';
export type { RateLimitInit } from './rate-limit';
export { RequestResponse, request } from './request-response';
export { KeepAliveRequester, type KeepAliveInit } from './keep-alive';
export type {
  ProtocolHost,
  RequestContext,
  RequestHandler,
  RequestOptions,
  RequestResponseComponents,
  RequestResponseInit,
  RequestResponseStats,
} from './request-response';
export { ParleyNetwork, pathOf, type ConnectionInfo, type ConnectionPath, type NetworkHandlers, type NetworkOptions } from './parley-network';
export type { DeliveryStatus, IntroduceStatus } from './parley-network';
export { MSG_BATCH_HEADER_BYTES, MSG_ENVELOPE_OVERHEAD_BYTES, MSG_MAX_BATCH, MSG_MAX_REQUEST_BYTES } from './protocols/msg';
export {
  DEFAULT_MAILBOX_LIMITS,
  MAILBOX_ID_BYTES,
  MAILBOX_MAX_ENVELOPE_BYTES,
  MAILBOX_PROTOCOL,
  MailboxClient,
  MailboxError,
  MailboxKey,
  MailboxServer,
  deriveMailboxKey,
  isMailboxError,
  mailboxIdOf,
} from './protocols/mailbox';
export type {
  MailboxActivity,
  MailboxClientOptions,
  MailboxEntryInfo,
  MailboxEnvelope,
  MailboxErrorCode,
  MailboxLimits,
  MailboxStore,
} from './protocols/mailbox';
