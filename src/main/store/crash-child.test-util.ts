/**
 * A child process for store tests that need a second process: `node --import tsx
 * crash-child.test-util.ts <dir> <mode>`, with the store created by the parent using
 * fastTestWrapper().
 *
 * - hold: opens the store, prints "ready", and waits to be killed (the folder stays locked).
 * - write: opens the store and commits one incoming message per transaction, printing
 *   "committed <hex id>" after each COMMIT returns, until killed.
 * - write-deferred: the same with deferred-sync commits and no sync at all (a crash of the
 *   process must still lose none of them; only a power cut may, see TransactionOptions).
 */
import { randomBytes } from 'node:crypto';
import { openStore } from './store';
import { fastTestWrapper } from './store.test-util';

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== 'hold' && mode !== 'write' && mode !== 'write-deferred')) {
  process.stderr.write('usage: crash-child <dir> hold|write|write-deferred\n');
  process.exit(2);
}

const store = await openStore(dir, fastTestWrapper());
if (mode === 'hold') {
  process.stdout.write('ready\n');
  setInterval(() => undefined, 1000);
} else {
  const conversation = store.conversations.list()[0];
  const device = conversation && store.devices.listByContact(conversation.contactId)[0];
  if (!conversation || !device) throw new Error('the parent must create a contact, device and conversation');
  let seq = 1;
  const writeOne = (): void => {
    const messageId = new Uint8Array(randomBytes(16));
    const insert = (): unknown => store.messages.insertIncoming({
      messageId,
      conversationId: conversation.id,
      senderDeviceId: device.id,
      kind: 'text',
      body: `message ${seq}`,
      senderSeq: seq,
      sentAt: Date.now(),
      receivedAt: Date.now(),
      path: 'lan',
    });
    if (mode === 'write-deferred') store.transaction(insert, { deferSync: true });
    else insert();
    seq += 1;
    // Written only after the transaction committed: the parent may kill us from here on.
    process.stdout.write(`committed ${Buffer.from(messageId).toString('hex')}\n`);
    setImmediate(writeOne);
  };
  writeOne();
}
