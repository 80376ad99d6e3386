/**
 * Crypto benchmark (issue 2, "Benchmark"): `npm run bench:crypto` prints one JSON object on
 * stdout, progress on stderr. Methodology matches the libsignal anchor in
 * ../shared/bench/libsignal/bench.mjs (warm-up, timed windows of BENCH_SECONDS, every plaintext
 * compared, full GC between benchmarks, 200-byte messages); the raw XChaCha20-Poly1305 floor is
 * measured in the same run exactly as that script measures it. With LIBSIGNAL_RESULTS=<file>
 * (a JSON output of bench.mjs) the result also holds libsignal's figures, the ratios and the
 * targets of the issue with pass/fail. See bench/README.md.
 */
import os from 'node:os';
import sodium from 'libsodium-wrappers-sumo';
import { openEnvelope, sealEnvelope } from '../src/crypto/envelope';
import { FILE_CHUNK_BYTES, FileDecryptor, FileEncryptor, generateFileKey } from '../src/crypto/file-stream';
import { SecretKey } from '../src/crypto/keys';
import { randomBytes } from '../src/crypto/random';
import { initCrypto } from '../src/crypto/sodium';
import { benchSodiumFloor } from './lib/aead-floor';
import { PersistedPair, establishedPair, freshSetup, send, type SetupPhases } from './lib/sessions';
import { countSodiumCalls, estimateSodiumMicroseconds, measureUnitCosts, perOperation } from './lib/sodium-calls';
import { OtherLoadMeter, cryptoSourceFingerprint, packageVersion } from './lib/environment';
import { compareWithLibsignal, readLibsignalResults } from './lib/targets';
import {
  SECONDS,
  SizeStats,
  WARMUP_SECONDS,
  assertEqualBytes,
  fullGc,
  log,
  now,
  round,
  secs,
  timed,
  type TimedResult,
} from './lib/timing';

const MSG_LEN = 200; // as libsignal's bench
const REVERSE_COUNT = 1000; // as libsignal's bench (OOO_COUNT)
const FILE_CHUNKS_PER_FILE = 16; // 1 MiB files: a fresh key and stream every 16 chunks
const COUNTED_OPS = 100; // operations run once with libsodium calls counted, for "where time goes"

const message = (): Uint8Array => randomBytes(MSG_LEN);

function benchSessionSetup() {
  log('a. session setup (fresh identities, signed prekey, one-time prekey and bundle per setup)');
  const msg = message();
  const phases: SetupPhases = { identities: 0n, bob_publish_bundle: 0n, alice_process_bundle_and_encrypt: 0n, bob_decrypt_prekey_msg: 0n };
  let counting = false;
  const r = timed('session_setups', () => {
    const { phases: p } = freshSetup(msg);
    if (!counting) return;
    for (const k of Object.keys(phases) as (keyof SetupPhases)[]) phases[k] += p[k];
  }, { afterWarmup: () => (counting = true) });
  const breakdown = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round((secs(v) * 1e6) / r.ops, 1)]));
  const sizes = freshSetup(msg, true);
  const calls = perOperation(countSodiumCalls(() => {
    for (let i = 0; i < COUNTED_OPS; i++) freshSetup(msg);
  }), COUNTED_OPS);
  return { r, breakdown, sizes, calls };
}

function benchPingPong() {
  log('b. ping-pong (direction alternates every message: a DH ratchet step each time)');
  const msg = message();
  const pair = establishedPair(msg);
  const sizes = new SizeStats();
  let dir = 0;
  const step = () => {
    const envelope = dir ? send(pair.bobSession, pair.alice, msg) : send(pair.aliceSession, pair.bob, msg);
    dir ^= 1;
    sizes.add(envelope.length);
  };
  const r = timed('ping_pong', step);
  const calls = perOperation(countSodiumCalls(() => {
    for (let i = 0; i < COUNTED_OPS; i++) step();
  }), COUNTED_OPS);
  return { r, envelope: sizes.out(), stateBytes: pair.aliceSession.serialize().length, calls };
}

function benchOneWay() {
  log('c. one-way (Alice to Bob only: symmetric ratchet)');
  const msg = message();
  const pair = establishedPair(msg);
  const sizes = new SizeStats();
  const step = () => sizes.add(send(pair.aliceSession, pair.bob, msg).length);
  const r = timed('one_way', step, { batch: 10 });
  const calls = perOperation(countSodiumCalls(() => {
    for (let i = 0; i < COUNTED_OPS; i++) step();
  }), COUNTED_OPS);
  return { r, envelope: sizes.out(), stateBytes: pair.bobSession.serialize().length, calls };
}

/** Ping-pong and one-way with sessions loaded from bytes and saved around every call. */
function benchPersisted() {
  log('d. ping-pong and one-way with serialized sessions (deserialize + serialize around every call)');
  const msg = message();
  const pp = new PersistedPair(establishedPair(msg));
  let dir: 0 | 1 = 0;
  const pingPong = timed('ping_pong_persisted', () => {
    pp.send(dir, msg);
    dir = dir ? 0 : 1;
  });
  fullGc();
  const ow = new PersistedPair(establishedPair(msg));
  const oneWay = timed('one_way_persisted', () => ow.send(0, msg), { batch: 10 });
  return { pingPong, oneWay, aliceStateBytes: pp.stateBytes(0), bobStateBytes: ow.stateBytes(1) };
}

function benchReverse() {
  log(`e. out-of-order (${REVERSE_COUNT} messages, decrypted in reverse)`);
  const run = (reverse: boolean) => {
    const msg = message();
    const { aliceSession, bob, bobSession } = establishedPair(msg);
    const msgs: Uint8Array[] = [];
    const envelopes: Uint8Array[] = [];
    const t0 = now();
    for (let i = 0; i < REVERSE_COUNT; i++) {
      const m = message();
      new DataView(m.buffer, m.byteOffset).setUint32(0, i);
      msgs.push(m);
      envelopes.push(aliceSession.encrypt(m));
    }
    const t1 = now();
    const order = [...Array(REVERSE_COUNT).keys()];
    if (reverse) order.reverse();
    let ok = 0;
    let failed = 0;
    let firstNs = 0n;
    let stateAfterFirst = 0;
    let probeNs = 0n; // time spent serializing the state after the first decrypt, subtracted
    const t2 = now();
    for (const [k, i] of order.entries()) {
      const ta = now();
      try {
        const pt = bob.receive(envelopes[i] as Uint8Array);
        if (Buffer.compare(pt, msgs[i] as Uint8Array) === 0) ok++;
        else failed++;
      } catch (e) {
        failed++;
        if (failed <= 3) log(`    decrypt #${i} failed: ${(e as Error).message}`);
      }
      if (k === 0) {
        const tb = now();
        firstNs = tb - ta;
        stateAfterFirst = bobSession.serialize().length;
        probeNs = now() - tb;
      }
    }
    const t3 = now();
    return {
      encrypt_us_per_msg: round((secs(t1 - t0) * 1e6) / REVERSE_COUNT, 2),
      decrypt_us_per_msg: round((secs(t3 - t2 - probeNs) * 1e6) / REVERSE_COUNT, 2),
      first_decrypt_us: round(secs(firstNs) * 1e6, 1),
      state_bytes_after_first: stateAfterFirst,
      ok,
      failed,
    };
  };
  run(true); // warm-up of the whole procedure, not reported (as libsignal's bench)
  const rev = run(true);
  const inOrder = run(false);
  log(`  reverse: ${rev.decrypt_us_per_msg} us/msg decrypt, ${rev.ok}/${REVERSE_COUNT} ok; in-order ${inOrder.decrypt_us_per_msg} us/msg`);
  return { rev, inOrder };
}

function benchEnvelope() {
  log('f. sealed envelope seal + open (200-byte payload, session layout)');
  const key = new SecretKey('envelope', randomBytes(32));
  const tag = randomBytes(16);
  const payload = message();
  let size = 0;
  const r = timed('envelope_seal_open', () => {
    const sealed = sealEnvelope(key, tag, payload);
    size = sealed.length;
    assertEqualBytes(openEnvelope(key, sealed, false), payload, 'openEnvelope');
  }, { batch: 50 });
  return { r, size };
}

function benchFileStream() {
  log(`g. file stream (${FILE_CHUNK_BYTES / 1024} KiB chunks, push + pull, ${FILE_CHUNKS_PER_FILE} chunks per file)`);
  const chunk = randomBytes(FILE_CHUNK_BYTES);
  let encryptor: FileEncryptor | undefined;
  let decryptor: FileDecryptor | undefined;
  let index = 0;
  const r = timed('file_stream_64KiB_chunk', () => {
    if (index === 0) {
      const key = generateFileKey();
      encryptor = new FileEncryptor(key);
      decryptor = new FileDecryptor(key, encryptor.header);
    }
    const final = index === FILE_CHUNKS_PER_FILE - 1;
    const plain = (decryptor as FileDecryptor).pull((encryptor as FileEncryptor).push(chunk, final));
    assertEqualBytes(plain, chunk, 'FileDecryptor.pull');
    if (final) (decryptor as FileDecryptor).finish();
    index = final ? 0 : index + 1;
  }, { batch: 4 });
  return { r, MBps: (r.per_s * FILE_CHUNK_BYTES) / 1e6 };
}

function whereTimeGoes(measuredUs: number, calls: Record<string, number>, unitCosts: Record<string, number>) {
  const estimate = estimateSodiumMicroseconds(calls, unitCosts);
  return {
    measured_us: round(measuredUs, 2),
    libsodium_estimated_us: estimate.estimated_us,
    // The curve operations alone, and the rate they would allow if nothing else cost anything.
    public_key_ops_estimated_us: estimate.public_key_us,
    ceiling_per_s_from_public_key_ops: estimate.public_key_us > 0 ? round(1e6 / estimate.public_key_us) : null,
    other_js_estimated_us: round(measuredUs - estimate.estimated_us, 1),
    libsodium_calls: calls,
    ...(estimate.unpriced_calls.length ? { unpriced_calls: estimate.unpriced_calls } : {}),
  };
}

async function main() {
  const wallStart = now();
  await initCrypto();
  const runLoad = new OtherLoadMeter();
  const loadStart = os.loadavg()[0] ?? 0;
  const step = <T>(f: () => T): T => {
    fullGc();
    return f();
  };
  const setup = step(benchSessionSetup);
  const pp = step(benchPingPong);
  const ow = step(benchOneWay);
  const persisted = step(benchPersisted);
  const reverse = step(benchReverse);
  const envelope = step(benchEnvelope);
  const file = step(benchFileStream);
  const floor = step(benchSodiumFloor);
  log('i. unit costs of libsodium calls');
  const unitCosts = step(measureUnitCosts);

  const usOf = (r: TimedResult) => 1e6 / r.per_s;
  const cpus = os.cpus();
  const figures = {
    session_setups_per_s: round(setup.r.per_s),
    one_way_msgs_per_s: round(ow.r.per_s),
    ping_pong_msgs_per_s: round(pp.r.per_s),
    reverse_decrypt_us_per_msg: reverse.rev.decrypt_us_per_msg,
    envelope_seal_open_per_s: round(envelope.r.per_s),
    file_stream_MBps: round(file.MBps),
    sodium_aead_200B_per_s: round(floor.r200.per_s),
    sodium_aead_64KiB_MBps: round(floor.MBps),
  };
  const libsignalPath = process.env.LIBSIGNAL_RESULTS;
  const libsignal = libsignalPath ? readLibsignalResults(libsignalPath) : undefined;
  const result = {
    ...figures,
    file_stream_vs_raw_aead: round(file.MBps / floor.MBps, 3),
    node_version: process.version,
    cpu_model: cpus[0]?.model ?? 'unknown',
    timestamp: new Date().toISOString(),
    ...(libsignal ? { libsignal: { source: libsignalPath, ...libsignal }, ...compareWithLibsignal(figures, libsignal) } : {}),
    out_of_order: {
      messages: REVERSE_COUNT,
      all_decrypted: reverse.rev.ok === REVERSE_COUNT && reverse.rev.failed === 0,
      encrypt_us_per_msg: reverse.rev.encrypt_us_per_msg,
      reverse_decrypt_us_per_msg: reverse.rev.decrypt_us_per_msg,
      reverse_first_decrypt_us: reverse.rev.first_decrypt_us,
      in_order_decrypt_us_per_msg_reference: reverse.inOrder.decrypt_us_per_msg,
    },
    persisted_sessions: {
      note: 'session deserialized before and serialized after every encrypt and decrypt, as libsignal\'s headline serialized stores',
      ping_pong_msgs_per_s: round(persisted.pingPong.per_s),
      one_way_msgs_per_s: round(persisted.oneWay.per_s),
    },
    session_setup_breakdown_us: setup.breakdown,
    sizes_bytes: {
      prekey_envelope_200B: setup.sizes.prekeyEnvelopeBytes,
      session_envelope_200B: ow.envelope,
      ping_pong_envelope_200B: pp.envelope,
      sealed_envelope_200B_payload: envelope.size,
      initiator_state_after_setup: setup.sizes.initiatorStateBytes,
      responder_state_after_setup: setup.sizes.responderStateBytes,
      alice_state_after_ping_pong: pp.stateBytes,
      bob_state_after_one_way: ow.stateBytes,
      bob_state_after_first_reverse_decrypt: reverse.rev.state_bytes_after_first,
    },
    where_time_goes: {
      note: 'libsodium_calls per operation, counted over ' + COUNTED_OPS + ' untimed operations; estimated_us = calls x unit_costs_us',
      session_setup: whereTimeGoes(usOf(setup.r), setup.calls, unitCosts),
      ping_pong_msg: whereTimeGoes(usOf(pp.r), pp.calls, unitCosts),
      one_way_msg: whereTimeGoes(usOf(ow.r), ow.calls, unitCosts),
      unit_costs_us: unitCosts,
    },
    raw: {
      session_setups: setup.r,
      ping_pong: pp.r,
      one_way: ow.r,
      ping_pong_persisted: persisted.pingPong,
      one_way_persisted: persisted.oneWay,
      envelope_seal_open: envelope.r,
      file_stream_64KiB_chunk: file.r,
      sodium_aead_200B: floor.r200,
      sodium_aead_64KiB: floor.r64k,
    },
    env: {
      src_crypto_fingerprint: cryptoSourceFingerprint(),
      libsodium_wrappers_sumo: packageVersion('libsodium-wrappers-sumo'),
      libsodium: sodium.SODIUM_VERSION_STRING,
      platform: `${process.platform}-${process.arch}`,
      cpu_count: cpus.length,
      other_load_cores_during_run: runLoad.read(),
      loadavg_1m_at_start: round(loadStart, 2),
      loadavg_1m_at_end: round(os.loadavg()[0] ?? 0, 2),
      timed_window_s: SECONDS,
      warmup_s: WARMUP_SECONDS,
      total_runtime_s: round(secs(now() - wallStart), 1),
    },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
