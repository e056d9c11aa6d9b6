// Browser end-to-end test of the caseworker console: a real gateway (`ariadne serve`), a real
// console (`ariadne-console`), the reference survivor client (`ariadne-survivor`) and Debian's
// chromium driven by playwright-core. Exit status 0 when every check passed.
//
// Environment: ARIADNE_GATEWAY, ARIADNE_CONSOLE, ARIADNE_SURVIVOR (binaries),
// ARIADNE_SCREENSHOTS (directory for inbox/thread/alerts screenshots; optional),
// CHROMIUM (default /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { MODES, audit, axeViolations, emulate } from './a11y.mjs';

const GATEWAY = process.env.ARIADNE_GATEWAY;
const CONSOLE = process.env.ARIADNE_CONSOLE;
const SURVIVOR = process.env.ARIADNE_SURVIVOR;
const SHOTS = process.env.ARIADNE_SCREENSHOTS || process.env.ARIADNE_SCREENSHOTS_DEFAULT || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
for (const [name, p] of [['ARIADNE_GATEWAY', GATEWAY], ['ARIADNE_CONSOLE', CONSOLE], ['ARIADNE_SURVIVOR', SURVIVOR]]) {
  if (!p || !fs.existsSync(p)) { console.error(`${name} must name a built binary (got ${p})`); process.exit(1); }
}

// Canaries: a name and a phone number she writes in her first message. The console may show
// her words inside the thread, but nowhere else: not in the inbox, alerts, title, its output
// or its files on disk.
const CANARY_NAME = 'Elena Marchetti';
const CANARY_PHONE = '+39 333 555 0142';
const DURESS_WORD = 'blue umbrella';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ariadne-browser-'));
const children = [];
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}
function cleanup() {
  for (const c of children) { try { c.kill('SIGTERM'); } catch { /* gone */ } }
}
process.on('exit', cleanup);

// Spawns a long-running process; resolves with the first stdout match of `pattern`.
function startProcess(argv, input, pattern, timeoutMs = 60000) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  child.output = '';
  child.errors = '';
  child.stderr.on('data', (d) => { child.errors += d; });
  if (input !== null) child.stdin.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(argv[0])} did not start:\n${child.output}\n${child.errors}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      child.output += d;
      const m = child.output.match(pattern);
      if (m) { clearTimeout(timer); resolve({ child, match: m }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${path.basename(argv[0])} exited ${code}:\n${child.output}\n${child.errors}`)); });
  });
}

function run(argv, input = '') {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0; const out = [];
  for (const c of s.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c); bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}
function totp(secretBase32, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const code = ((h.readUInt32BE(o) & 0x7fffffff) % 1000000).toString().padStart(6, '0');
  return code;
}

// Raw HTTP request to the console with headers of our choosing (a browser would not forge Host).
function rawRequest(port, method, target, headers, body = '') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, setHost: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Listening TCP sockets of process `pid`: local addresses from /proc/net/tcp{,6}.
function listeningAddresses(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const t = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = t.match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch { /* fd closed meanwhile */ }
  }
  const out = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) out.push(`${table.endsWith('6') ? 'tcp6' : 'tcp'} ${f[1]}`);
    }
  }
  return out;
}

function filesContain(dir, needle) {
  const hits = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const p = path.join(entry.parentPath ?? entry.path, entry.name);
    if (fs.readFileSync(p).includes(Buffer.from(needle))) hits.push(p);
  }
  return hits;
}

async function waitFor(fn, what, timeoutMs = 10000) {
  const start = Date.now();
  for (;;) {
    try { if (await fn()) { check(true, what); return true; } } catch { /* retry */ }
    if (Date.now() - start > timeoutMs) { check(false, what); return false; }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Runs axe-core's WCAG 2.1 A/AA rules on the page as it is now, at its own size.
async function axeCheck(page, view) {
  const found = await axeViolations(page);
  check(found.length === 0, `axe-core finds no WCAG 2.1 A/AA violation in the ${view}${found.length ? ': ' + found.join('; ') : ''}`);
}

// The view as it is now, in each display mode (375 px and 200 % zoom, MODES in a11y.mjs):
// axe-core, the keyboard walk and reflow. The page goes back to `viewport` afterwards. The
// console's own words are English only (it has no translation); her words in her language
// are checked where her Arabic message and Arabic prepared replies are on the page.
async function auditModes(page, view, viewport = { width: 1100, height: 760 }) {
  for (const mode of MODES) {
    const restore = await emulate(page, mode);
    try {
      await audit(page, `${view} (${mode.name})`, check);
    } finally {
      await restore(viewport);
    }
  }
}

// Presses Tab until the focus is on `selector` (at most 40 times); true when it got there.
async function tabTo(page, selector) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel), selector)) return true;
    await page.keyboard.press('Tab');
  }
  return false;
}

// Contrast ratio of two CSS colours "rgb(r, g, b)" (WCAG 2.1 relative luminance).
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

async function main() {
  // 1. Gateway on an ephemeral port with a temporary data directory. Our caseworker exists
  // first: she is the SMS channel's on-duty caseworker. The SMS config points at a Kannel
  // port nobody listens on (section 11c: a reply the SMS gateway cannot take).
  const gwDir = path.join(tmp, 'gateway');
  const password = 'correct horse battery staple';
  const cw = JSON.parse(run([GATEWAY, 'admin', 'caseworker-add', '--data-dir', gwDir, '--username', 'mara.k'], password + '\n'));
  const deadKannelPort = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
  const smsToken = 'browser_test_token_0123456789abcdefghij';
  const smsConfig = path.join(tmp, 'sms.json');
  fs.writeFileSync(smsConfig, JSON.stringify({
    kannel_port: deadKannelPort, kannel_username: 'ariadne', kannel_password: 'pw_unused', sender: '7000',
    inbound_token: smsToken, callback_base: 'https://127.0.0.1:1', on_duty: [cw.account] }));
  const { child: gatewayProc, match: gw } = await startProcess(
    [GATEWAY, 'serve', '--data-dir', gwDir, '--listen', '127.0.0.1:0', '--insecure-test-params', '--recovery-m-kib', '8192', '--log-level', 'warn', '--sms-config', smsConfig],
    null, /listening on https:\/\/127\.0\.0\.1:(\d+)\/ \(certificate sha256 ([0-9A-Fa-f:]+)\)/);
  const gwUrl = `wss://127.0.0.1:${gw[1]}`;
  const fingerprint = gw[2];
  console.log(`gateway at ${gwUrl}`);

  // 2. Accounts: a colleague, a survivor assigned to us and one who is not.
  const other = JSON.parse(run([GATEWAY, 'admin', 'caseworker-add', '--data-dir', gwDir, '--username', 'colleague.b'], password + '\n'));
  // Her record needs initials, language and time zone (a zone where it is about noon now, so
  // quiet hours never interfere); replies need her recorded consent (docs/policies.md).
  const k = 12 - new Date().getUTCHours();
  const zone = k === 0 ? 'Etc/GMT' : (k > 0 ? `Etc/GMT-${k}` : `Etc/GMT+${-k}`);
  const enrol = (caseworker) => {
    const s = JSON.parse(run([GATEWAY, 'admin', 'survivor-enrol', '--data-dir', gwDir, '--caseworker', caseworker, '--initials', 'A.B.', '--language', 'en', '--time-zone', zone, '--with-duress-code', '--recovery-m-kib', '8192', '--insecure-test-params']));
    run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', s.case_code, '--channel', 'app', '--purpose', 'replies', '--by', caseworker]);
    return s;
  };
  const survivor = enrol(cw.account);
  const notOurs = enrol(other.account);
  // The organisation's retention and prepared replies, which the console must follow.
  const orgReplies = path.join(tmp, 'replies.json');
  // Per language: English (the default) and Arabic.
  fs.writeFileSync(orgReplies, JSON.stringify({
    en: [
      { label: "I'm here", text: "Thank you for writing. I'm here and I'm reading your message." },
      { label: 'Whenever', text: 'We can talk whenever it suits you.' }],
    ar: [
      { label: 'أنا هنا', text: 'شكرًا لكِ على رسالتك. أنا هنا وأقرأ ما كتبتِ.' },
      { label: 'لا عجلة', text: 'خذي وقتك، لا داعي للعجلة.' }],
  }));
  run([GATEWAY, 'admin', 'policy-set', '--data-dir', gwDir, '--retention-days', '30', '--canned-replies-file', orgReplies]);
  // The organisation's duress words live at the gateway (given on stdin, stored as digests);
  // every console of her team receives them with the settings.
  run([GATEWAY, 'admin', 'duress-words-set', '--data-dir', gwDir, '--file', '-'], DURESS_WORD + '\n');

  // 3. The console: first run registers the device (password + TOTP), then serves the UI.
  const consoleDir = path.join(tmp, 'console');
  const settings = path.join(tmp, 'console-settings.json');
  fs.writeFileSync(settings, JSON.stringify({ retention_days: 400 }));
  const { child: consoleProc, match: link } = await startProcess(
    [CONSOLE, '--data-dir', consoleDir, '--gateway', gwUrl, '--fingerprint', fingerprint, '--username', 'mara.k', '--settings', settings, '--insecure-test-kdf'],
    `a console passphrase for tests\na console passphrase for tests\n${password}\n${totp(cw.totp_secret)}\n`,
    /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=[0-9a-f]{64})/);
  const url = link[1];
  const port = Number(link[2]);
  const CONSOLE_PASSPHRASE = 'a console passphrase for tests';
  console.log(`console at http://127.0.0.1:${port}/`);

  // 4. Security of the real console process.
  const listeners = listeningAddresses(consoleProc.pid);
  check(listeners.length === 1 && listeners[0] === `tcp 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`,
    `console listens only on 127.0.0.1:${port} (${listeners.join(', ')})`);
  const host = `127.0.0.1:${port}`;
  const noCookie = await rawRequest(port, 'GET', '/api/inbox', { Host: host });
  check(noCookie.status === 401, 'a request without the token or cookie is refused');
  check((noCookie.headers['content-security-policy'] || '').includes("default-src 'none'"), 'CSP header present on refusals');
  const wrongHost = await rawRequest(port, 'GET', '/', { Host: `evil.example:${port}` });
  check(wrongHost.status === 403, 'a request with a wrong Host is refused');

  // 5. The survivor recovers her identity from the code and writes in.
  const survivorStore = path.join(tmp, 'survivor');
  const surv = (...args) => run([SURVIVOR, '--server', gwUrl, '--fingerprint', fingerprint, '--store', survivorStore, ...args]);
  run([SURVIVOR, '--server', gwUrl, '--fingerprint', fingerprint, '--store', survivorStore, 'recover'], survivor.recovery_code + '\n');
  const firstText = 'Hello, it\'s me again. Is this still the right place to write?';
  surv('send', firstText);

  // 6. The caseworker's browser.
  const profile = path.join(tmp, 'chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 760 },
  });
  const page = context.pages()[0] || await context.newPage();
  const cspViolations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  const mainResponse = await page.goto(url);
  check(page.url() === `http://127.0.0.1:${port}/`, 'the token link signs in and leaves the token out of the address bar');
  check((mainResponse.headers()['content-security-policy'] || '').includes("script-src 'self'"), 'the page is served with a strict CSP');
  const cookies = await context.cookies();
  check(cookies.length === 1 && cookies[0].httpOnly && cookies[0].sameSite === 'Strict', 'session cookie is HttpOnly and SameSite=Strict');

  await waitFor(async () => {
    const st = await page.evaluate(async () => (await fetch('/api/status')).json());
    return st.retention_days === 30 && st.retention_from === 'organisation';
  }, "the console follows the organisation's retention (30 days, not its own 400)");
  await waitFor(async () => {
    const c = await page.evaluate(async () => (await fetch('/api/canned')).json());
    return c.replies.length === 2 && c.replies[1].text === 'We can talk whenever it suits you.';
  }, "the prepared replies are the organisation's");

  const row = page.locator(`#inbox-rows tr[data-account="${survivor.account}"]`);
  const t0 = Date.now();
  await waitFor(async () => (await row.locator('.badge').count()) > 0, 'her message appears in the inbox as unread within a few seconds', 10000);
  console.log(`     (appeared after ${Date.now() - t0} ms)`);
  check(!(await row.textContent()).includes('right place'), 'the inbox row shows no preview of her message');
  await waitFor(async () => (await row.locator('td[data-security="end_to_end"]').textContent()) === 'app — end-to-end encrypted',
    "the inbox row shows the gateway's channel and security label (app — end-to-end encrypted)");
  const notOursRow = page.locator(`#inbox-rows tr[data-account="${notOurs.account}"]`);
  check((await notOursRow.count()) === 0, 'a survivor assigned to someone else is not listed');
  const bodyText = async () => page.evaluate(() => document.body.innerText);
  let text = await bodyText();
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-inbox.png') });

  // "Not verified yet" is routine: a calm mark on her row and one count above the inbox,
  // never an alert per survivor (they stacked, changed order and looked like errors).
  await waitFor(async () => ((await page.locator('#inbox-summary').textContent()) || '').startsWith('1 conversation not verified yet'),
    'the inbox sums up "1 conversation not verified yet"');
  check((await row.locator('[data-note="not-verified"]').textContent()) === 'not verified yet', 'her row is marked "not verified yet"');
  check((await page.locator('#alerts .alert[data-kind="unverified"]').count()) === 0, 'no "not verified" alert above the inbox');
  check(await page.locator('#inbox-summary').evaluate((n) => getComputedStyle(n).color) !==
    await page.locator('#inbox-summary').evaluate(() => {
      const probe = document.createElement('p'); probe.className = 'refusal'; document.body.append(probe);
      const c = getComputedStyle(probe).color; probe.remove(); return c;
    }), 'the not-verified count is not styled as an error');
  await axeCheck(page, 'inbox');
  await auditModes(page, 'inbox');

  // The 1.5-s refresh keeps the keyboard focus: a focused conversation still opens with Enter
  // after several refreshes, and the live regions say nothing while nothing is new.
  await page.evaluate(() => {
    window.liveChanges = 0;
    const o = new MutationObserver((list) => { window.liveChanges += list.length; });
    for (const n of document.querySelectorAll('[aria-live], [role=status], [role=alert]')) o.observe(n, { childList: true, subtree: true, characterData: true });
  });
  await row.locator('a').focus();
  await new Promise((r) => setTimeout(r, 6000));
  check(await row.locator('a').evaluate((a) => document.activeElement === a), 'after 6 s of refreshes the keyboard focus is still on her conversation');
  check(await page.evaluate(() => window.liveChanges) === 0, `the live regions stay silent while nothing is new (${await page.evaluate(() => window.liveChanges)} changes)`);
  check(await page.locator('#alerts').getAttribute('aria-live') === null, 'the alerts list is not one big live region');
  await page.keyboard.press('Enter');
  await waitFor(async () => page.locator('#thread-view').isVisible(), 'Enter on the focused conversation opens it');
  await page.goto(`http://127.0.0.1:${port}/#/`);

  // Keyboard only, from the top of the page: Tab reaches her conversation, Enter opens it.
  await page.locator('body').focus();
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await row.locator('a').evaluate((a) => document.activeElement === a);
  }
  check(reached, 'Tab alone reaches her conversation from the top of the page');
  await page.keyboard.press('Enter');
  await waitFor(async () => page.locator('#thread-view').isVisible(), 'and Enter opens it');
  await page.goto(`http://127.0.0.1:${port}/#/`);

  // 7. Open the thread and reply with a canned reply plus a line of her own.
  await row.locator('a').click();
  await waitFor(async () => (await page.locator('#messages li.in').count()) === 1, 'her message is shown in the thread');
  check((await page.locator('#messages li.in .text').textContent()) === firstText, 'the thread shows her message decrypted');
  check((await page.locator('#safety-number').textContent()).replace(/\s/g, '').length === 60, 'a 60-digit safety number is shown');
  await page.locator('#canned button').first().click();
  const reply = 'Thank you for writing. I\'m here and I\'m reading your message.';
  check((await page.locator('#reply-text').inputValue()) === reply, 'a canned reply fills the reply box');
  const replyBox = await page.locator('#reply-text').evaluate((n) => {
    const s = getComputedStyle(n); return [s.borderTopColor, getComputedStyle(n.closest('main')).backgroundColor === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.body).backgroundColor : getComputedStyle(n.closest('main')).backgroundColor];
  });
  check(contrast(replyBox[0], replyBox[1]) >= 3, `the reply box border has at least 3:1 contrast (${contrast(replyBox[0], replyBox[1]).toFixed(2)}:1)`);
  check(await page.locator('#thread-title bdi').textContent() === 'A.B.', 'her initials are isolated (<bdi>) in the thread title');
  check(await page.locator('#messages li.in').first().getAttribute('data-channel') === 'app', 'her app message carries its own channel (app)');
  check(await page.locator('#verify-advice').evaluate((n) => !n.classList.contains('changed')), 'her thread says "not verified yet" as one calm line');
  await axeCheck(page, 'thread');
  await auditModes(page, 'thread with a prepared reply in the reply box');
  await page.locator('#send').click();
  await waitFor(async () => (await page.locator('#messages li.out').count()) === 1 &&
    ['committed', 'delivered'].includes(await page.locator('#messages li.out').getAttribute('data-state')),
  'the reply is committed at the gateway');
  await waitFor(async () => (await page.locator('#announce').textContent()) === 'Reply sent: stored at the gateway.',
    'sending the reply is announced to screen readers');

  // 8. The survivor receives and decrypts it; the receipt marks it delivered.
  const received = surv('receive', '--wait', '3', '--json');
  check(received.includes(reply), 'the survivor client receives and decrypts the reply');
  await waitFor(async () => (await page.locator('#messages li.out').getAttribute('data-state')) === 'delivered',
    'the delivery receipt marks the reply delivered', 10000);
  // Verify the safety number (after comparing it with her in person).
  await page.locator('#safety summary').click();
  await page.locator('#verified-toggle').check();
  await waitFor(async () => (await page.locator('#safety-state').textContent()) === 'verified', 'the verified mark is kept');
  // She can read the same safety number on her side.
  const herNumber = surv('safety-number').trim().split(/\s{2}/)[1] || '';
  check(herNumber.length > 0 && herNumber === (await page.locator('#safety-number').textContent()).trim(),
    `ariadne-survivor safety-number shows her the same safety number (${herNumber})`);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await waitFor(async () => await page.locator('#inbox-summary').isHidden() && (await row.locator('[data-note="not-verified"]').count()) === 0,
    'once verified, the count and her mark go');
  await row.locator('a').click();
  await waitFor(async () => (await page.locator('#messages li.out').count()) === 1, 'back in her thread');
  // Right to left: her record says she speaks Arabic; her Arabic message reads right to left
  // (dir="auto") and is marked as Arabic for screen readers; her earlier English message is not.
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', survivor.case_code, '--language', 'ar']);
  const arabic = 'مرحبا، هل أنت هناك؟';
  surv('send', arabic);
  const arabicItem = page.locator('#messages li.in .text', { hasText: 'مرحبا' });
  await waitFor(async () => (await arabicItem.count()) === 1, 'her Arabic message arrives');
  check(await arabicItem.getAttribute('dir') === 'auto' && await arabicItem.evaluate((n) => getComputedStyle(n).direction) === 'rtl',
    'her Arabic message text is laid out right to left (dir="auto")');
  await waitFor(async () => await arabicItem.getAttribute('lang') === 'ar', 'her Arabic message carries lang="ar" (her record\'s language)', 15000);
  check(await page.locator('#messages li.in .text', { hasText: 'right place' }).getAttribute('lang') === null,
    'her English message is not marked Arabic');
  await axeCheck(page, 'thread with an Arabic message');
  await auditModes(page, 'her Arabic thread');
  await page.evaluate(() => { document.getElementById('safety').open = false; });  // opened by the click above
  check(await tabTo(page, '#safety summary'), 'Tab reaches the safety number');
  await page.keyboard.press('Enter');
  check(await page.locator('#safety-number').isVisible(), 'Enter opens it');
  await auditModes(page, 'her Arabic thread, safety number open');
  await page.locator('#safety summary').focus();
  await page.keyboard.press('Space');
  check(await page.locator('#safety-number').isHidden(), 'Space closes it again');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-thread.png'), fullPage: true });

  // 9. She writes her name and new number: her own words show in the thread only.
  surv('send', `I'm ${CANARY_NAME}, my new number is ${CANARY_PHONE}.`);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await waitFor(async () => (await row.locator('.badge').count()) > 0, 'her second message shows as unread', 20000);
  text = await bodyText();
  check(!text.includes(CANARY_NAME) && !text.includes(CANARY_PHONE) && !text.includes('Marchetti'),
    'inbox and alerts show no name or phone number');
  check(!(await page.title()).includes('Marchetti'), 'the page title reveals nothing');
  await row.locator('a').click();
  await waitFor(async () => (await page.locator('#messages li.in').count()) === 3, 'her second message is in the thread (after her Arabic one)');
  const outside = await page.evaluate(() => {
    const clone = document.body.cloneNode(true);
    clone.querySelector('#messages')?.remove();
    return clone.innerText;
  });
  check(!outside.includes(CANARY_NAME) && !outside.includes(CANARY_PHONE), 'outside her own words, the thread page shows no name or number');

  // 10. A reply the gateway refuses shows why in a sentence.
  await page.goto(`http://127.0.0.1:${port}/#/thread/${notOurs.account}`);
  await page.locator('#reply-text').fill('Hello');
  await page.locator('#send').click();
  const refusal = page.locator('#reply-refusal');
  await waitFor(async () => await refusal.isVisible(), 'a refused reply shows a refusal box');
  const refusalText = await refusal.textContent();
  check(/^Not sent: .+\./.test(refusalText), `the refusal says why in a sentence: "${refusalText}"`);
  await auditModes(page, 'a refused reply');

  // 10a. Handover: the colleague's survivor is handed over to us with a note; the note is
  // shown at the top of her thread.
  const note = 'Warm handover agreed with her on 3 May; prefers mornings.';
  run([GATEWAY, 'admin', 'assign', '--data-dir', gwDir, '--survivor', notOurs.account, '--caseworker', cw.account, '--handover-note', note]);
  await page.goto(`http://127.0.0.1:${port}/#/thread/${notOurs.account}`);
  await waitFor(async () => (await page.locator('#handover').isVisible()) && (await page.locator('#handover-text').textContent()) === note,
    'after a handover the new caseworker sees the handover note in the thread', 15000);
  check(!(await page.locator('#never-confirm').isVisible()), 'no never-confirm instruction on an ordinary thread');

  // 10a'. She asks that no one ever confirm she was a client: her thread says so, plainly.
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--never-confirm-client', 'on']);
  await waitFor(async () => (await page.locator('#never-confirm').isVisible()) &&
    ((await page.locator('#never-confirm').textContent()) || '').includes('Never confirm to anyone that she is or was a client'),
  'her thread shows the instruction never to confirm she was a client', 15000);
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--never-confirm-client', 'off']);
  await waitFor(async () => !(await page.locator('#never-confirm').isVisible()),
    'the instruction goes once it is cleared', 15000);

  // 10a''. Prepared replies in her language: an Arabic-speaking survivor's thread offers the
  // organisation's Arabic replies (isolated, right to left); a language without replies falls
  // back to English and says so.
  check(!(await page.locator('#canned-note').isVisible()), 'an English-speaking survivor gets the English replies without a note');
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--language', 'ar']);
  await waitFor(async () => (await page.locator('#canned button').first().textContent()) === 'أنا هنا' &&
    (await page.locator('#canned button').count()) === 2,
  'her thread offers the Arabic prepared replies when her language is Arabic', 15000);
  check(await page.locator('#canned button').first().getAttribute('dir') === 'auto', 'each Arabic reply button has dir=auto');
  check(await page.locator('#canned button').first().getAttribute('lang') === 'ar', 'and is marked lang=ar');
  check(!(await page.locator('#canned-note').isVisible()), 'no fallback note when her language has replies');
  await page.locator('#canned button').nth(1).click();
  check((await page.locator('#reply-text').inputValue()) === 'خذي وقتك، لا داعي للعجلة.', 'an Arabic reply fills the reply box');
  await auditModes(page, 'Arabic prepared replies, one in the reply box');
  check(await page.locator('#reply-text').getAttribute('dir') === 'auto', 'the reply box has dir=auto');
  await page.locator('#reply-text').fill('');
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--language', 'ro']);
  await waitFor(async () => (await page.locator('#canned button').first().textContent()) === "I'm here" &&
    (await page.locator('#canned-note').isVisible()) &&
    (await page.locator('#canned-note').textContent()) === 'No prepared replies in her language (ro): these are in en.',
  'a language without replies falls back to English with a visible note', 15000);
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--language', 'ar-EG']);
  await waitFor(async () => (await page.locator('#canned button').first().textContent()) === 'أنا هنا' &&
    !(await page.locator('#canned-note').isVisible()),
  'her regional tag (ar-EG) gets the Arabic replies by its primary language', 15000);
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', notOurs.case_code, '--language', 'en']);
  await waitFor(async () => (await page.locator('#canned button').first().textContent()) === "I'm here" &&
    !(await page.locator('#canned-note').isVisible()),
  'with her language back to English she gets the English replies and no note', 15000);

  // 10b. A policy denial: she withdraws her consent to replies; the next reply is refused at
  // send time, and the box gives the policy's reason and what would allow it.
  run([GATEWAY, 'admin', 'consent-withdraw', '--data-dir', gwDir, '--case', survivor.case_code, '--channel', 'app', '--purpose', 'replies', '--by', cw.account]);
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await page.locator('#reply-text').fill('Are you free to talk?');
  await page.locator('#send').click();
  await waitFor(async () => ((await refusal.textContent()) || '').includes('withdrew her consent'),
    'a reply after her withdrawal shows the consent_withdrawn reason', 10000);
  check(((await refusal.textContent()) || '').includes('only a new consent from her would allow it'),
    'the refusal says what would allow the reply');
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', survivor.case_code, '--channel', 'app', '--purpose', 'replies', '--by', cw.account]);

  // 10c. Her duress code: the gateway raises an urgent alert, shown at the top with a clear
  // button; replies are refused until her caseworker clears it, with an explicit confirmation.
  run([SURVIVOR, '--server', gwUrl, '--fingerprint', fingerprint, '--store', path.join(tmp, 'decoy'), 'recover'], survivor.duress_code + '\n');
  await page.goto(`http://127.0.0.1:${port}/#/`);
  const gwAlert = page.locator('#alerts .alert').first();
  await waitFor(async () => (await gwAlert.getAttribute('data-kind')) === 'duress' &&
    (await gwAlert.locator('button.clear').count()) === 1, 'her duress login shows an urgent, clearable alert at the top', 15000);
  check(await gwAlert.evaluate((n) => n.classList.contains('urgent')), 'the gateway duress alert is marked urgent');
  check(((await gwAlert.textContent()) || '').includes(survivor.case_code), 'the alert names her case code (not her name)');
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await page.locator('#reply-text').fill('Checking in.');
  await page.locator('#send').click();
  await waitFor(async () => ((await refusal.textContent()) || '').includes('duress'),
    'under the duress lock a reply is refused with the reason', 10000);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-alerts.png') });
  await auditModes(page, 'alerts with an urgent duress alert');
  // Keyboard only: focus the clear button, Enter, then confirm.
  await gwAlert.locator('button.clear').focus();
  await page.keyboard.press('Enter');
  const confirmButton = page.locator('#alerts [data-confirm]');
  await waitFor(async () => (await confirmButton.count()) === 1, 'clearing asks for an explicit confirmation');
  await waitFor(async () => page.evaluate(() => document.activeElement?.hasAttribute('data-confirm')), 'the confirmation button has the keyboard focus');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-alert-confirm.png') });
  await auditModes(page, 'the confirmation to clear an alert');
  await confirmButton.focus();  // where the walk found it
  await page.keyboard.press('Enter');
  await waitFor(async () => (await page.locator('#alerts button.clear').count()) === 0, 'the cleared alert disappears', 10000);
  // This reply by keyboard only: Tab to the box, type, Tab to "Send reply", Space.
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await waitFor(async () => (await page.locator('#messages li.out').count()) >= 1, 'back in her thread');
  check(await tabTo(page, '#reply-text'), 'Tab reaches the reply box');
  await page.keyboard.type('I am here whenever you want to write.');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.id) === 'send', 'Tab moves on to "Send reply"');
  await page.keyboard.press('Space');
  if (!await waitFor(async () => (await page.locator('#messages li.out[data-state="committed"], #messages li.out[data-state="delivered"]').count()) === 2,
    'after the clear, replies flow again', 20000)) {
    console.log(`     (her replies: ${(await page.locator('#messages li.out').evaluateAll((ls) => ls.map((l) => l.dataset.state))).join(', ')}; ${await page.locator('#reply-refusal').textContent()})`);
  }

  // 11. A duress word in her message (end-to-end: only the console can read it) is reported
  // to the gateway: its urgent alert appears at the top, clearable like any gateway alert,
  // and replies are held until it is cleared.
  surv('send', `sorry can't talk now, ${DURESS_WORD.toUpperCase()}!`);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  const firstAlert = page.locator('#alerts .alert').first();
  await waitFor(async () => (await firstAlert.getAttribute('data-kind')) === 'duress' &&
    (await firstAlert.locator('button.clear').count()) === 1, 'her duress word raises the gateway\'s urgent, clearable duress alert', 15000);
  check(await firstAlert.evaluate((n) => n.classList.contains('urgent')), 'the duress alert is marked urgent');
  check((await page.locator('#alerts .alert[data-kind="duress"]').count()) === 1, 'one duress alert (the gateway\'s), no second one of the console\'s own');
  check(await page.evaluate(() => {
    const a = document.getElementById('alerts'); const m = document.querySelector('main');
    return !!(a.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING) && a.getBoundingClientRect().top < m.getBoundingClientRect().top;
  }), 'alerts sit above the conversations');
  text = await bodyText();
  check(!text.includes(CANARY_NAME) && !text.includes(CANARY_PHONE), 'with alerts shown, still no name or number on the page');
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await page.locator('#reply-text').fill('Thinking of you.');
  await page.locator('#send').click();
  await waitFor(async () => ((await refusal.textContent()) || '').includes('duress'),
    'after her duress word a reply is refused with the duress reason', 10000);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await page.locator('#alerts .alert[data-kind="duress"] button.clear').click();
  await page.locator('#alerts [data-confirm]').click();
  await waitFor(async () => (await page.locator('#alerts .alert[data-kind="duress"]').count()) === 0,
    'her caseworker clears the duress alert after checking on her', 10000);

  // 11b. She lost her code: a new one gives her a new identity. The console shows the change,
  // holds replies with a sentence, and after the caseworker compares and accepts the new
  // safety number, replies flow to her new phone.
  const oldNumber = (await page.evaluate(async (a) => (await (await fetch('/api/thread/' + a)).json()).safety_number, survivor.account));
  const recoded = JSON.parse(run([GATEWAY, 'admin', 'survivor-recode', '--data-dir', gwDir, '--survivor', survivor.account, '--insecure-test-params']));
  const newPhone = path.join(tmp, 'survivor-new-phone');
  run([SURVIVOR, '--server', gwUrl, '--fingerprint', fingerprint, '--store', newPhone, 'recover'], recoded.recovery_code + '\n');
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await waitFor(async () => (await page.locator('#alerts .alert[data-kind="identity_changed"]').count()) === 1,
    'an identity_changed alert appears (not urgent)', 15000);
  check(!(await page.locator('#alerts .alert[data-kind="identity_changed"]').evaluate((n) => n.classList.contains('urgent'))), 'the identity alert is not marked urgent');
  check(((await page.locator('#alerts .alert[data-kind="identity_changed"]').textContent()) || '').includes('safe word'),
    'the identity alert advises verifying her with the agreed safe word');
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await waitFor(async () => page.locator('#identity').isVisible(), 'the thread shows that her safety number changed');
  await page.locator('#reply-text').fill('Is this your new phone?');
  await page.locator('#send').click();
  await waitFor(async () => ((await refusal.textContent()) || '').startsWith('Held, not sent: her safety number changed'),
    'a reply is held with a sentence saying why', 10000);
  await page.locator('#identity-show').click();
  await waitFor(async () => page.locator('#identity-number').isVisible(), 'the new safety number is shown');
  const newNumber = await page.locator('#identity-number').textContent();
  check(newNumber.replace(/\s/g, '').length === 60 && newNumber !== oldNumber, 'the new safety number differs from the old one');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-identity.png') });
  await auditModes(page, 'her safety number changed');
  await page.locator('#identity-verified').check();
  await page.locator('#identity-accept').click();
  await waitFor(async () => !(await page.locator('#identity').isVisible()) &&
    (await page.locator('#safety-state').textContent()) === 'verified', 'after accepting, the new number is verified and the panel goes');
  const welcome = 'Welcome back. Write whenever you want.';
  await page.locator('#reply-text').fill(welcome);
  await page.locator('#send').click();
  await waitFor(async () => (await page.locator('#messages li.out .text', { hasText: welcome }).count()) === 1 &&
    ['committed', 'delivered'].includes(await page.locator('#messages li.out').last().getAttribute('data-state')), 'the reply after accepting is sent', 10000);
  const onNewPhone = run([SURVIVOR, '--server', gwUrl, '--fingerprint', fingerprint, '--store', newPhone, 'receive', '--wait', '3', '--json']);
  check(onNewPhone.includes(welcome), 'her new phone decrypts the reply');
  await waitFor(async () => (await page.locator('#alerts .alert[data-kind="identity_changed"]').count()) === 0, 'the identity alert is cleared by accepting');

  // 11c. SMS: she writes in by SMS (posted to /sms/inbound exactly as Kannel's smsbox does);
  // the reply cannot be handed to Kannel (nothing listens on its port), so the gateway sends
  // a failed receipt and the thread shows "Not delivered (SMS)" with neutral advice.
  const smsSurvivor = JSON.parse(run([GATEWAY, 'admin', 'survivor-enrol', '--data-dir', gwDir, '--caseworker', cw.account, '--initials', 'S.M.', '--language', 'en', '--time-zone', zone, '--recovery-m-kib', '8192', '--insecure-test-params']));
  const SMS_NUMBER = '+39 333 555 0177';
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', smsSurvivor.case_code, '--channel', 'sms', '--purpose', 'replies', '--by', cw.account, '--address-stdin'], SMS_NUMBER + '\n');
  const inbound = await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: Number(gw[1]), method: 'POST', path: '/sms/inbound', rejectUnauthorized: false,
      headers: { Authorization: `Basic ${Buffer.from(`kannel:${smsToken}`).toString('base64')}`, 'X-Kannel-From': SMS_NUMBER.replace(/ /g, ''),
        'Content-Type': 'text/plain; charset=UTF-8' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end('Can you call me tomorrow?');
  });
  check(inbound === 202, `her SMS is accepted (${inbound})`);
  await page.goto(`http://127.0.0.1:${port}/#/thread/${smsSurvivor.account}`);
  await waitFor(async () => (await page.locator('#messages li.in').count()) === 1, 'her SMS shows in the thread', 20000);
  await page.locator('#reply-text').fill('Yes, at ten.');
  await page.locator('#send').click();
  const smsReply = page.locator('#messages li.out').last();
  await waitFor(async () => (await smsReply.getAttribute('data-state')) === 'not_delivered',
    'a reply the SMS gateway could not take is marked not delivered', 20000);
  await waitFor(async () => ((await page.locator('#thread-channel').textContent()) || '').includes('sms — carrier plaintext') &&
    (await page.locator('#thread-channel').getAttribute('data-security')) === 'carrier_plaintext',
  'the SMS thread is labelled from the gateway\'s channel fields: "sms — carrier plaintext", carrier_plaintext (never end-to-end)', 15000);
  check(await page.locator('#thread-unverified').isHidden(), 'her number is on file: no unverified line');
  const smsReplyText = (await smsReply.textContent()) || '';
  check(smsReplyText.includes('Not delivered (SMS)'), 'the thread says "Not delivered (SMS)" on that reply');
  check(smsReplyText.includes('another channel she has consented to') && smsReplyText.includes('not be sent again'),
    'with neutral advice: not resent by itself, try later or another consented channel');
  check(!(await bodyText()).includes('555 0177') && !(await bodyText()).includes('5550177'), 'her number is not on the page');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-sms-not-delivered.png') });

  // 11d. A number not on file writes in: the gateway opens an unverified thread for the
  // on-duty caseworker (us). The console shows the gateway's flag as one calm line, and the
  // line is true: a reply to that number is refused.
  const strangerStatus = await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: Number(gw[1]), method: 'POST', path: '/sms/inbound', rejectUnauthorized: false,
      headers: { Authorization: `Basic ${Buffer.from(`kannel:${smsToken}`).toString('base64')}`, 'X-Kannel-From': '+393335550188',
        'Content-Type': 'text/plain; charset=UTF-8' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end('Hello? Someone gave me this number.');
  });
  check(strangerStatus === 202, `an SMS from a number not on file is accepted (${strangerStatus})`);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  const unverifiedRow = page.locator('#inbox-rows tr', { has: page.locator('[data-note="unverified"]') });
  await waitFor(async () => (await unverifiedRow.count()) === 1, 'the inbox marks the new thread "unverified number"', 20000);
  check((await unverifiedRow.locator('td[data-security]').getAttribute('data-security')) === 'carrier_plaintext' &&
    (await unverifiedRow.locator('td[data-security]').textContent()) === 'sms — carrier plaintext',
  'the unverified thread is labelled from the gateway: sms — carrier plaintext');
  await unverifiedRow.locator('a').click();
  await waitFor(async () => (await page.locator('#thread-unverified').isVisible()) &&
    ((await page.locator('#thread-unverified').textContent()) || '').startsWith('Unverified number: nothing can be sent to it'),
  'the unverified thread shows the gateway\'s flag as one line', 15000);
  check(!(await bodyText()).includes('5550188'), 'the unverified number is not on the page');
  check(((await page.locator('#safety-number').textContent()) || '').startsWith('None yet: only her Ariadne app has a safety number'),
    'an SMS thread does not promise a safety number "after her first message"');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-sms-unverified.png') });
  await auditModes(page, 'an unverified SMS thread');
  await page.locator('#reply-text').fill('Who is this?');
  await page.evaluate(() => { document.getElementById('reply-refusal').textContent = ''; });
  await page.locator('#send').click();
  await waitFor(async () => (await refusal.isVisible()) && ((await refusal.textContent()) || '').startsWith('Not sent'),
    'a reply to the unverified number is refused, as the line says', 10000);
  console.log(`     (${await refusal.textContent()})`);

  // 11e. The web page: she signs in at /notes with her code and writes. The gateway reports
  // her thread as web — edge-encrypted; a reply delivered there is "delivered to her web
  // page" (taken into her page's history), never "delivered to her phone".
  const webSurvivor = JSON.parse(run([GATEWAY, 'admin', 'survivor-enrol', '--data-dir', gwDir, '--caseworker', cw.account, '--initials', 'W.P.', '--language', 'en', '--time-zone', zone, '--with-duress-code', '--recovery-m-kib', '8192', '--insecure-test-params']));
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', webSurvivor.case_code, '--channel', 'web', '--purpose', 'replies', '--by', cw.account]);
  // A check-in plan on her web page before she ever opened it: its first check-in waits for
  // her, and her row says so in a sentence instead of "not set up". (Stopped again, so the
  // rest of this test sees no check-in.)
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', webSurvivor.case_code, '--channel', 'web', '--purpose', 'check_ins', '--by', cw.account]);
  const webPlan = JSON.parse(run([GATEWAY, 'admin', 'checkin-plan-set', '--data-dir', gwDir, '--case', webSurvivor.case_code, '--by', cw.account, '--every-days', '1', '--window', '00:00-23:59', '--channel', 'web']));
  await page.goto(`http://127.0.0.1:${port}/#/`);
  const webRow = page.locator(`#inbox-rows tr[data-account="${webSurvivor.account}"]`);
  await waitFor(async () => ((await webRow.locator('td[data-label="Check-in"]').textContent()) || '').startsWith('waiting'),
    'a plan waiting for her first sign-in shows "Check-in: waiting", not "not set up"', 20000);
  const waitingCell = (await webRow.locator('td[data-label="Check-in"]').textContent()) || '';
  check(waitingCell.startsWith('waiting until she can be reached: no channel of her plan reaches her yet') && !waitingCell.includes('unreachable') && !waitingCell.includes('not set up'),
    `the waiting check-in says why in a sentence (${waitingCell})`);
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-checkin-waiting.png') });
  run([GATEWAY, 'admin', 'checkin-plan-status', '--data-dir', gwDir, '--plan', String(webPlan.plan_id), '--status', 'stopped', '--by', cw.account]);
  await waitFor(async () => ((await webRow.locator('td[data-label="Check-in"]').textContent()) || '') === 'not set up',
    'a stopped plan is "not set up" again', 20000);
  const herBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });
  const herPage = await (await herBrowser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await herPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await herPage.fill('#code', webSurvivor.recovery_code);
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=login]')]);
  await herPage.waitForLoadState('load');
  await herPage.fill('#text', 'Writing from the page.');
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=send]')]);
  await herBrowser.close();
  await page.goto(`http://127.0.0.1:${port}/#/thread/${webSurvivor.account}`);
  await waitFor(async () => (await page.locator('#messages li.in').count()) === 1, 'her note from the web page shows in the thread', 20000);
  await waitFor(async () => ((await page.locator('#thread-channel').textContent()) || '') === 'Channel of her last message: web — edge-encrypted' &&
    (await page.locator('#thread-channel').getAttribute('data-security')) === 'edge_encrypted',
  'the web-page thread is labelled from the gateway: web — edge-encrypted', 15000);
  await page.locator('#reply-text').fill('Thank you, I read it.');
  await page.locator('#send').click();
  const webReply = page.locator('#messages li.out').last();
  await waitFor(async () => (await webReply.getAttribute('data-channel')) === 'web' &&
    ((await webReply.textContent()) || '').includes('waiting on her page'),
  'a reply to her web page says "waiting on her page"', 15000);
  check(!((await webReply.textContent()) || '').includes('her phone'), 'and never "delivered to her phone"');
  await new Promise((r) => setTimeout(r, 1500));
  check(((await webReply.textContent()) || '').includes('waiting on her page'), 'it still waits while she has not opened the page');
  // She opens the page again: it shows her the reply, and the console says she read it.
  const readBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });
  const readPage = await (await readBrowser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await readPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await readPage.fill('#code', webSurvivor.recovery_code);
  await Promise.all([readPage.waitForEvent('framenavigated'), readPage.click('button[value=login]')]);
  await readPage.waitForLoadState('load');
  check(((await readPage.locator('#thread').textContent()) || '').includes('Thank you, I read it.'), 'her page shows the reply');
  await readBrowser.close();
  await waitFor(async () => (await webReply.getAttribute('data-state')) === 'read_on_page' &&
    ((await webReply.textContent()) || '').includes('read on her page'),
  'once her page has shown it, the reply says "read on her page"', 15000);
  check(!((await webReply.textContent()) || '').includes('her phone'), 'still never "her phone"');
  check(await page.locator('#messages li.in').first().getAttribute('data-channel') === 'web', 'her note carries its own channel (web)');
  // Verification by the agreed safe word: no safety number exists for her web page.
  check(await page.locator('#verified-toggle').isEnabled(), 'a web-page thread can be marked verified by safe word');
  await page.evaluate(() => { document.getElementById('safety').open = true; });
  await page.locator('#verified-toggle').check();
  await waitFor(async () => (await page.locator('#safety-state').textContent()) === 'verified by safe word', 'her web thread is "verified by safe word"');
  await page.reload();
  await waitFor(async () => (await page.locator('#safety-state').textContent()) === 'verified by safe word' && await page.locator('#verify-advice').isHidden(),
    'the safe-word mark is kept (the console\'s history) and the not-verified line goes');
  await axeCheck(page, 'web-page thread');
  await auditModes(page, 'web-page thread');
  // Her duress code at the page: the team's alert is the gateway's, never "Her · received".
  const duressBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });
  const duressPage = await (await duressBrowser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await duressPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await duressPage.fill('#code', webSurvivor.duress_code);
  await Promise.all([duressPage.waitForEvent('framenavigated'), duressPage.click('button[value=login]')]);
  await duressBrowser.close();
  await waitFor(async () => (await page.locator('#messages li.gateway').count()) === 1, 'the duress sign-in alert shows in her thread as the gateway\'s line', 20000);
  check(((await page.locator('#messages li.gateway').textContent()) || '').includes('not written by her') &&
    (await page.locator('#messages li.in', { hasText: 'ALERT' }).count()) === 0, 'not as "Her · received"');

  // 11f. Her case status is the gateway's: a closed case shows one line in her thread and a
  // mark in the inbox. (The status is written into the gateway's database directly, as no
  // command of this build sets it.)
  run(['sqlite3', path.join(gwDir, 'ariadne.db'),
    `PRAGMA busy_timeout = 5000; UPDATE policies_survivors SET status = 'closed' WHERE case_code = '${survivor.case_code}';`]);
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  await waitFor(async () => (await page.locator('#thread-status').isVisible()) &&
    (await page.locator('#thread-status').textContent()).startsWith('Her case is closed'),
  'a closed case shows "Her case is closed" in her thread', 15000);
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await waitFor(async () => ((await row.locator('[data-note="status"]').textContent()) || '') === 'case closed',
    'the inbox row marks her case closed', 10000);
  // A check-in that is not sent says why in a sentence, never as a bare reason code: her
  // closed case stops the slot of a plan whose window opens in a minute or two, after her
  // last message (one inside the window would count as her answer); the scheduler runs
  // every 15 s.
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', survivor.case_code, '--channel', 'app', '--purpose', 'check_ins', '--by', cw.account]);
  const opens = new Date(Date.now() + 60000 + k * 3600000);
  const hhmm = `${String(opens.getUTCHours()).padStart(2, '0')}:${String(opens.getUTCMinutes()).padStart(2, '0')}`;
  run([GATEWAY, 'admin', 'checkin-plan-set', '--data-dir', gwDir, '--case', survivor.case_code, '--by', cw.account, '--every-days', '1', '--window', `${hhmm}-23:59`, '--channel', 'app']);
  // Until its window opens, her row says when the first check-in goes out.
  await waitFor(async () => ((await row.locator('td[data-label="Check-in"]').textContent()) || '').startsWith('scheduled The first check-in goes out in her next window. ('),
    'a plan that can reach her shows its first check-in as scheduled, with the time', 20000);
  await waitFor(async () => ((await row.locator('[data-note="checkin"]').textContent()) || '').startsWith('Not sent'),
    'her row gives a sentence for the check-in that was not sent', 150000);
  const checkinCell = await row.locator('td[data-label="Check-in"]').textContent();
  check(checkinCell.includes('Not sent: her case is closed.') && !checkinCell.includes('case_closed'),
    `the check-in cell says why in a sentence (${checkinCell})`);
  await auditModes(page, 'inbox with check-in lines and case marks');
  await page.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);

  // 12. Readable at 200% zoom: nothing overflows sideways.
  await page.setViewportSize({ width: 550, height: 760 });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scrolling at 200% zoom (550 px wide)');
  // At 375 px (a phone, or 200 % zoom on a small window) the inbox keeps its labels.
  await page.setViewportSize({ width: 375, height: 760 });
  await page.goto(`http://127.0.0.1:${port}/#/`);
  await waitFor(async () => (await row.count()) === 1, 'the inbox at 375 px');
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scrolling at 375 px');
  const labels = await row.locator('td').evaluateAll((tds) => tds.slice(1).map((td) => getComputedStyle(td, '::before').content));
  check(labels.length === 4 && labels.every((c) => c !== 'none' && c !== 'normal'), `each cell of her row is labelled at 375 px (${labels.join(' | ')})`);
  check(await page.locator('#inbox thead').isHidden(), 'the column headings give way to the labels');
  await axeCheck(page, 'inbox at 375 px');
  await page.setViewportSize({ width: 1100, height: 760 });
  check(cspViolations.length === 0, `no CSP violations (${cspViolations.length})`);

  // 13. A POST from another origin is refused even with the session cookie.
  const cookie = `${cookies[0].name}=${cookies[0].value}`;
  const forged = await rawRequest(port, 'POST', `/api/thread/${survivor.account}/reply`,
    { Host: host, Cookie: cookie, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, JSON.stringify({ text: 'x' }));
  check(forged.status === 403, 'a POST from another Origin is refused');

  const connectedLook = await page.locator('#connection').evaluate((n) => getComputedStyle(n).backgroundColor);
  check(await page.locator('#connection').getAttribute('data-state') === 'connected', 'the console shows "Connected to the gateway"');
  await context.close();

  // 14. Nothing readable left behind: no canary in the console's output or files.
  consoleProc.kill('SIGTERM');
  await new Promise((r) => consoleProc.once('exit', r));
  for (const needle of [CANARY_NAME, CANARY_PHONE, 'Marchetti', reply, '3335550177', '3335550188']) {
    check(!consoleProc.output.includes(needle) && !consoleProc.errors.includes(needle), `console output holds no "${needle}"`);
    check(filesContain(consoleDir, needle).length === 0, `console files hold no "${needle}" in clear`);
  }

  // 15. Daily use: a later start is locked and prints the sign-in page at the same port; an
  // old tab lands on the styled sign-in page; the passphrase typed there opens the keys.
  const { child: again, match: signinLine } = await startProcess([CONSOLE, '--data-dir', consoleDir, '--insecure-test-kdf'], '',
    /Sign in with your passphrase at (http:\/\/127\.0\.0\.1:(\d+)\/signin)/);
  check(Number(signinLine[2]) === port, 'a later start keeps the same port and prints the sign-in page, not a one-time link');
  const browser2 = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page2 = await (await browser2.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
  await page2.goto(`http://127.0.0.1:${port}/#/thread/${survivor.account}`);
  check(new URL(page2.url()).pathname === '/signin', 'an old tab of the console goes to the sign-in page');
  check(await page2.locator('h2').textContent() === 'Sign in to your console' &&
    await page2.locator('#passphrase').evaluate((n) => getComputedStyle(n).borderTopStyle === 'solid'), 'the sign-in page is styled, with a passphrase field');
  check(await page2.evaluate(() => document.activeElement?.id) === 'passphrase', 'the passphrase field has the focus');
  await axeCheck(page2, 'sign-in page');
  await auditModes(page2, 'sign-in page ("You are signed out")');
  await page2.locator('#passphrase').focus();  // where it was
  await page2.keyboard.type('not the passphrase');
  await page2.keyboard.press('Enter');
  await waitFor(async () => ((await page2.locator('#signin-error').textContent()) || '').startsWith('That passphrase does not open'),
    'a wrong passphrase is refused with a sentence', 15000);
  check(await page2.locator('#passphrase').getAttribute('aria-invalid') === 'true', 'and the field is marked invalid');
  await auditModes(page2, 'sign-in page, wrong passphrase');
  await page2.locator('#passphrase').fill(CONSOLE_PASSPHRASE);
  await page2.keyboard.press('Enter');
  await waitFor(async () => new URL(page2.url()).pathname === '/' &&
    (await page2.locator(`#inbox-rows tr[data-account="${survivor.account}"]`).count()) === 1,
  'the passphrase typed in the page opens the keys and shows the inbox', 20000);
  check((await browser2.contexts()[0].cookies()).some((c) => c.httpOnly && c.sameSite === 'Strict'), 'signing in sets the HttpOnly, SameSite=Strict session cookie');

  // 16. An outage looks different from "Connected": the gateway stops.
  gatewayProc.kill('SIGTERM');
  // The state and its sentence may be drawn by different refreshes: wait for both.
  await waitFor(async () => (await page2.locator('#connection').getAttribute('data-state')) === 'unreachable' &&
    ((await page2.locator('#connection').textContent()) || '').startsWith('Cannot reach the gateway'),
  'with the gateway stopped the console says it cannot reach it', 30000);
  const outageLook = await page2.locator('#connection').evaluate((n) => getComputedStyle(n).backgroundColor);
  check(outageLook !== connectedLook && ((await page2.locator('#connection').textContent()) || '').startsWith('Cannot reach the gateway'),
    `"Cannot reach the gateway" is visibly different from "Connected" (${outageLook} vs ${connectedLook})`);
  if (SHOTS) await page2.screenshot({ path: path.join(SHOTS, 'console-outage.png') });
  await auditModes(page2, 'inbox during an outage');
  await browser2.close();
  again.kill('SIGTERM');
}

main().then(() => {
  cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(failures ? `${failures} check(s) failed` : 'all browser checks passed');
  process.exit(failures ? 1 : 0);
}).catch((e) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
