// Interoperability test: Ariadne's C++ Signal core (interop_peer, a real Party with a sealed
// SQLite store) against @privacyresearch/libsignal-protocol-typescript, an implementation
// nobody on this project wrote. Run by CTest as `node interop.mjs <path to interop_peer>`.
//
// Scenarios: the TypeScript side initiates (X3DH from Ariadne's bundle JSON); the C++ side
// initiates (from a bundle the TypeScript side publishes, with and without a one-time
// pre-key). Each exchanges several pre-key and normal messages both ways, out-of-order
// delivery, and checks that tampered and replayed messages are refused. Any failed
// decryption, on either side, fails the test (exit status 1).
//
// Differences handled here: the TypeScript library numbers a normal message 1 (libsignal-c
// and Ariadne: 2; pre-key messages are 3 in both) and passes message bodies as binary
// strings. Ariadne pads every plaintext inside the Signal message (docs/crypto.md: plaintext
// || 0x80 || zeros up to 160, 512, 1024, 4096, 16384, then multiples of 16384 bytes), so
// this side pads and unpads the same way, and checks that what Ariadne sends is padded.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const peerExe = process.argv[2];
if (!peerExe || !existsSync(peerExe)) {
  console.error('usage: node interop.mjs <path to interop_peer>');
  process.exit(2);
}
if (!existsSync(join(here, 'node_modules', '@privacyresearch', 'libsignal-protocol-typescript'))) {
  console.error(`interop: run "npm ci" in ${here} first (the TypeScript Signal peer is missing)`);
  process.exit(1);
}
const require = createRequire(import.meta.url);
const signal = require('@privacyresearch/libsignal-protocol-typescript');
const { KeyHelper, SessionBuilder, SessionCipher, SignalProtocolAddress } = signal;

// ---------------------------------------------------------------------------------------------
// Bytes, padding, message types

const toB64 = (bytes) => Buffer.from(bytes).toString('base64');
const fromB64 = (text) => new Uint8Array(Buffer.from(text, 'base64'));
const toArrayBuffer = (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const binaryStringToBytes = (s) => new Uint8Array(Buffer.from(s, 'latin1'));
const bytesToBinaryString = (bytes) => Buffer.from(bytes).toString('latin1');

function paddedSize(length) {
  for (const bucket of [160, 512, 1024, 4096, 16384]) if (length + 1 <= bucket) return bucket;
  return Math.ceil((length + 1) / 16384) * 16384;
}
function pad(plaintext) {
  const out = new Uint8Array(paddedSize(plaintext.length));
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}
function unpad(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== 0x80) throw new Error('padding marker missing');
  return padded.slice(0, end - 1);
}

const TS_NORMAL = 1;
const TS_PREKEY = 3;
const C_NORMAL = 2;
const C_PREKEY = 3;
const toCType = (tsType) => (tsType === TS_NORMAL ? C_NORMAL : tsType === TS_PREKEY ? C_PREKEY : -1);

// ---------------------------------------------------------------------------------------------
// The TypeScript party: an in-memory store as in the library's own tests.

const nameOf = (encoded) => String(encoded).replace(/\.\d+$/, '');
const sameBytes = (a, b) => Buffer.from(new Uint8Array(a)).equals(Buffer.from(new Uint8Array(b)));

class MemoryStore {
  constructor(identity, registrationId) {
    this.identity = identity;
    this.registrationId = registrationId;
    this.identities = new Map();
    this.preKeys = new Map();
    this.signedPreKeys = new Map();
    this.sessions = new Map();
  }
  async getIdentityKeyPair() { return this.identity; }
  async getLocalRegistrationId() { return this.registrationId; }
  async isTrustedIdentity(identifier, identityKey) {
    const known = this.identities.get(nameOf(identifier));
    return known === undefined || sameBytes(known, identityKey);
  }
  async saveIdentity(encodedAddress, publicKey) {
    const name = nameOf(encodedAddress);
    const known = this.identities.get(name);
    this.identities.set(name, publicKey);
    return known !== undefined && !sameBytes(known, publicKey);
  }
  async loadPreKey(id) { return this.preKeys.get(String(id)); }
  async storePreKey(id, keyPair) { this.preKeys.set(String(id), keyPair); }
  async removePreKey(id) { this.preKeys.delete(String(id)); }
  async loadSignedPreKey(id) { return this.signedPreKeys.get(String(id)); }
  async storeSignedPreKey(id, keyPair) { this.signedPreKeys.set(String(id), keyPair); }
  async removeSignedPreKey(id) { this.signedPreKeys.delete(String(id)); }
  async loadSession(address) { return this.sessions.get(address); }
  async storeSession(address, record) { this.sessions.set(address, record); }
}

// Ariadne's peer, as the TypeScript side knows it.
const cppAddress = new SignalProtocolAddress('ariadne-cpp', 1);

class TsParty {
  static async create() {
    const identity = await KeyHelper.generateIdentityKeyPair();
    const party = new TsParty(new MemoryStore(identity, KeyHelper.generateRegistrationId()));
    return party;
  }
  constructor(store) {
    this.store = store;
    this.cipher = new SessionCipher(store, cppAddress);
  }
  // A bundle in Ariadne's JSON format (bundle.h / docs/crypto.md). Pre-key id 0 would mean
  // "none" to this library, so ids start at 1.
  async bundle({ withOneTimePreKey }) {
    const signed = await KeyHelper.generateSignedPreKey(this.store.identity, 5);
    await this.store.storeSignedPreKey(5, signed.keyPair);
    const bundle = {
      registration_id: this.store.registrationId,
      device_id: 1,
      identity_key: toB64(new Uint8Array(this.store.identity.pubKey)),
      signed_pre_key: {
        id: 5,
        public_key: toB64(new Uint8Array(signed.keyPair.pubKey)),
        signature: toB64(new Uint8Array(signed.signature)),
      },
    };
    if (withOneTimePreKey) {
      const preKey = await KeyHelper.generatePreKey(7);
      await this.store.storePreKey(7, preKey.keyPair);
      bundle.pre_key = { id: 7, public_key: toB64(new Uint8Array(preKey.keyPair.pubKey)) };
    }
    return bundle;
  }
  async startFrom(bundle) {
    const device = {
      registrationId: bundle.registration_id,
      identityKey: toArrayBuffer(fromB64(bundle.identity_key)),
      signedPreKey: {
        keyId: bundle.signed_pre_key.id,
        publicKey: toArrayBuffer(fromB64(bundle.signed_pre_key.public_key)),
        signature: toArrayBuffer(fromB64(bundle.signed_pre_key.signature)),
      },
    };
    if (bundle.pre_key) {
      device.preKey = {
        keyId: bundle.pre_key.id,
        publicKey: toArrayBuffer(fromB64(bundle.pre_key.public_key)),
      };
    }
    await new SessionBuilder(this.store, cppAddress).processPreKey(device);
  }
  // Returns {type (libsignal-c numbering), body (bytes)}.
  async encrypt(plaintext) {
    const m = await this.cipher.encrypt(toArrayBuffer(pad(plaintext)));
    return { tsType: m.type, type: toCType(m.type), body: binaryStringToBytes(m.body) };
  }
  // Takes a message in libsignal-c numbering; returns the unpadded plaintext and checks the
  // sender padded it to a bucket.
  async decrypt(type, body) {
    let padded;
    if (type === C_PREKEY) {
      padded = await this.cipher.decryptPreKeyWhisperMessage(bytesToBinaryString(body), 'binary');
    } else if (type === C_NORMAL) {
      padded = await this.cipher.decryptWhisperMessage(bytesToBinaryString(body), 'binary');
    } else {
      throw new Error(`unknown message type ${type}`);
    }
    padded = new Uint8Array(padded);
    const plaintext = unpad(padded);
    assert.equal(padded.length, paddedSize(plaintext.length), 'Ariadne pads to a bucket');
    return plaintext;
  }
}

// ---------------------------------------------------------------------------------------------
// The C++ party: interop_peer over JSON lines.

class CppParty {
  constructor() {
    this.proc = spawn(peerExe, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = [];
    this.exited = false;
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter) waiter.resolve(JSON.parse(line));
    });
    this.proc.on('exit', (code, sig) => {
      this.exited = true;
      for (const waiter of this.pending.splice(0)) {
        waiter.reject(new Error(`interop_peer exited (code ${code}, signal ${sig})`));
      }
    });
  }
  request(body) {
    if (this.exited) return Promise.reject(new Error('interop_peer is not running'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(JSON.stringify(body) + '\n');
    });
  }
  async call(body) {
    const answer = await this.request(body);
    if (!answer.ok) throw new Error(`C++ ${body.op} failed: ${answer.code}: ${answer.error}`);
    return answer;
  }
  async bundle() { return (await this.call({ op: 'bundle' })).bundle; }
  async start(bundle) { await this.call({ op: 'start', bundle }); }
  async encrypt(plaintext) {
    const a = await this.call({ op: 'encrypt', plaintext: toB64(plaintext) });
    return { type: a.type, body: fromB64(a.body) };
  }
  async decrypt(type, body) {
    return fromB64((await this.call({ op: 'decrypt', type, body: toB64(body) })).plaintext);
  }
  async quit() {
    await this.call({ op: 'quit' });
    await new Promise((resolve) => (this.exited ? resolve() : this.proc.on('exit', resolve)));
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

let checks = 0;
const encoder = new TextEncoder();
let serial = 0;
// Varied contents: UTF-8 text, binary with zero bytes at the end (padding must not eat them
// unless they are padding), and sizes that cross the 160 and 512 buckets.
function message(from) {
  const n = serial++;
  switch (n % 4) {
    case 0: return encoder.encode(`${from} ${n}: héllo, сообщение, 你好 ✓`);
    case 1: return Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + n) % 256).map((b, i) => (i >= 37 ? 0 : b));
    case 2: return encoder.encode(`${from} ${n} `.repeat(30));
    default: return Uint8Array.from({ length: 3000 }, (_, i) => (i * 11 + n) % 251);
  }
}

async function tsToCpp(ts, cpp, expectedType, count = 3) {
  for (let i = 0; i < count; i++) {
    const plaintext = message('ts');
    const c = await ts.encrypt(plaintext);
    assert.equal(c.type, expectedType, `TypeScript sent type ${c.tsType}`);
    assert.deepEqual(await cpp.decrypt(c.type, c.body), plaintext);
    checks++;
  }
}

async function cppToTs(cpp, ts, expectedType, count = 3) {
  for (let i = 0; i < count; i++) {
    const plaintext = message('cpp');
    const c = await cpp.encrypt(plaintext);
    assert.equal(c.type, expectedType);
    assert.deepEqual(await ts.decrypt(c.type, c.body), plaintext);
    checks++;
  }
}

async function refusesTamperingAndReplay(ts, cpp) {
  const plaintext = message('ts');
  const c = await ts.encrypt(plaintext);
  const flipped = Uint8Array.from(c.body);
  flipped[flipped.length - 12] ^= 0x01;  // inside the ciphertext, before the 8-byte MAC
  const refused = await cpp.request({ op: 'decrypt', type: c.type, body: toB64(flipped) });
  assert.equal(refused.ok, false, 'a flipped bit must not decrypt');
  assert.equal(refused.code, 'invalid_message');
  assert.deepEqual(await cpp.decrypt(c.type, c.body), plaintext, 'the intact message still opens');
  const replay = await cpp.request({ op: 'decrypt', type: c.type, body: toB64(c.body) });
  assert.equal(replay.ok, false, 'a replayed message must not decrypt twice');
  assert.equal(replay.code, 'invalid_message');

  const back = await cpp.encrypt(message('cpp'));
  const tampered = Uint8Array.from(back.body);
  tampered[tampered.length - 12] ^= 0x01;
  await assert.rejects(ts.decrypt(back.type, tampered), 'TypeScript refuses a flipped bit');
  checks += 3;
}

async function outOfOrder(cpp, ts) {
  const sent = [];
  for (let i = 0; i < 4; i++) {
    const plaintext = message('cpp');
    sent.push({ plaintext, c: await cpp.encrypt(plaintext) });
  }
  for (const i of [2, 0, 3, 1]) {
    assert.deepEqual(await ts.decrypt(sent[i].c.type, sent[i].c.body), sent[i].plaintext);
    checks++;
  }
  const back = [];
  for (let i = 0; i < 4; i++) {
    const plaintext = message('ts');
    back.push({ plaintext, c: await ts.encrypt(plaintext) });
  }
  for (const i of [3, 1, 0, 2]) {
    assert.deepEqual(await cpp.decrypt(back[i].c.type, back[i].c.body), back[i].plaintext);
    checks++;
  }
}

async function typeScriptInitiates() {
  const cpp = new CppParty();
  try {
    const ts = await TsParty.create();
    await ts.startFrom(await cpp.bundle());
    await tsToCpp(ts, cpp, C_PREKEY);       // pre-key messages until the first reply
    await cppToTs(cpp, ts, C_NORMAL);
    await tsToCpp(ts, cpp, C_NORMAL);       // TypeScript's type 1
    for (let round = 0; round < 5; round++) {
      await cppToTs(cpp, ts, C_NORMAL, 1 + (round % 3));
      await tsToCpp(ts, cpp, C_NORMAL, 1 + ((round + 1) % 3));
    }
    await outOfOrder(cpp, ts);
    await refusesTamperingAndReplay(ts, cpp);
    await cpp.quit();
  } finally {
    if (!cpp.exited) cpp.proc.kill();
  }
}

async function cppInitiates({ withOneTimePreKey }) {
  const cpp = new CppParty();
  try {
    const ts = await TsParty.create();
    await cpp.start(await ts.bundle({ withOneTimePreKey }));
    await cppToTs(cpp, ts, C_PREKEY);
    if (withOneTimePreKey) {
      assert.equal(await ts.store.loadPreKey(7), undefined, 'the one-time pre-key is used up');
    }
    await tsToCpp(ts, cpp, C_NORMAL);
    await cppToTs(cpp, ts, C_NORMAL);
    for (let round = 0; round < 5; round++) {
      await tsToCpp(ts, cpp, C_NORMAL, 1 + (round % 3));
      await cppToTs(cpp, ts, C_NORMAL, 1 + ((round + 2) % 3));
    }
    await outOfOrder(cpp, ts);
    await refusesTamperingAndReplay(ts, cpp);
    await cpp.quit();
  } finally {
    if (!cpp.exited) cpp.proc.kill();
  }
}

const scenarios = [
  ['TypeScript initiates from Ariadne\'s bundle', typeScriptInitiates],
  ['Ariadne initiates from a TypeScript bundle with a one-time pre-key',
    () => cppInitiates({ withOneTimePreKey: true })],
  ['Ariadne initiates from a TypeScript bundle without one-time pre-key',
    () => cppInitiates({ withOneTimePreKey: false })],
];
let failed = 0;
for (const [name, run] of scenarios) {
  try {
    await run();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${e.stack || e}`);
  }
}
console.log(`${checks} messages checked, ${failed} scenario(s) failed`);
process.exit(failed === 0 ? 0 : 1);
