// Browser end-to-end test of call-back requests: a real gateway (`ariadne serve`), two real
// consoles (`ariadne-console`: her caseworker's and a colleague's not assigned to her) and
// Debian's chromium driven by playwright-core. She asks to be called on her web page
// (/notes); the task appears at the top of her thread in her caseworker's console; the
// number is revealed there with a reason, shown once and gone from the page when the dialog
// closes; the colleague's console cannot reveal it; outcomes are recorded; the number is in
// no console's files or output. Exit status 0 when every check passed.
//
// Environment: ARIADNE_GATEWAY, ARIADNE_CONSOLE (binaries), ARIADNE_SCREENSHOTS (optional),
// CHROMIUM (default /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const GATEWAY = process.env.ARIADNE_GATEWAY;
const CONSOLE = process.env.ARIADNE_CONSOLE;
const SHOTS = process.env.ARIADNE_SCREENSHOTS || process.env.ARIADNE_SCREENSHOTS_DEFAULT || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
for (const [name, p] of [['ARIADNE_GATEWAY', GATEWAY], ['ARIADNE_CONSOLE', CONSOLE]]) {
  if (!p || !fs.existsSync(p)) { console.error(`${name} must name a built binary (got ${p})`); process.exit(1); }
}

// Her number on file for calls: the canary. Only the reveal may carry it, to her caseworker's
// page, and only while the dialog is open.
const NUMBER = '+447700900123';
const DIGITS = '7700900123';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ariadne-callback-'));
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
  return ((h.readUInt32BE(o) & 0x7fffffff) % 1000000).toString().padStart(6, '0');
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

async function waitFor(fn, what, timeoutMs = 15000) {
  const start = Date.now();
  for (;;) {
    try { if (await fn()) { check(true, what); return true; } } catch { /* retry */ }
    if (Date.now() - start > timeoutMs) { check(false, what); return false; }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function axeCheck(page, view) {
  await page.evaluate(AXE_SOURCE + '\n;0');
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  });
  check(found.length === 0, `axe-core finds no WCAG 2.1 A/AA violation in the ${view}${found.length ? ': ' + found.join('; ') : ''}`);
}

// A console for `username` (first run: registers the device with password and TOTP).
async function startConsole(name, username, totpSecret, gwUrl, fingerprint) {
  const dir = path.join(tmp, name);
  const { child, match } = await startProcess(
    [CONSOLE, '--data-dir', dir, '--gateway', gwUrl, '--fingerprint', fingerprint, '--username', username, '--insecure-test-kdf'],
    `a console passphrase for tests\na console passphrase for tests\n${PASSWORD}\n${totp(totpSecret)}\n`,
    /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=[0-9a-f]{64})/);
  return { dir, child, link: match[1], port: Number(match[2]) };
}

const PASSWORD = 'correct horse battery staple';

async function main() {
  const gwDir = path.join(tmp, 'gateway');
  const cw = JSON.parse(run([GATEWAY, 'admin', 'caseworker-add', '--data-dir', gwDir, '--username', 'mara.k'], PASSWORD + '\n'));
  const other = JSON.parse(run([GATEWAY, 'admin', 'caseworker-add', '--data-dir', gwDir, '--username', 'colleague.b'], PASSWORD + '\n'));
  // Her zone: one where it is about 11:00 now, so today's afternoon and evening are offered
  // and no default quiet hours interfere.
  const k = 11 - new Date().getUTCHours();
  const zone = k === 0 ? 'Etc/GMT' : (k > 0 ? `Etc/GMT-${k}` : `Etc/GMT+${-k}`);
  const her = JSON.parse(run([GATEWAY, 'admin', 'survivor-enrol', '--data-dir', gwDir, '--caseworker', cw.account, '--initials', 'C.B.', '--language', 'en', '--time-zone', zone, '--with-duress-code', '--recovery-m-kib', '8192', '--insecure-test-params']));
  // Her consent to be called, with the number to call her on (sealed at the gateway).
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', her.case_code, '--channel', 'voice_callback', '--purpose', 'replies', '--by', cw.account, '--address-stdin'], NUMBER + '\n');
  const { child: gatewayProc, match: gw } = await startProcess(
    [GATEWAY, 'serve', '--data-dir', gwDir, '--listen', '127.0.0.1:0', '--insecure-test-params', '--recovery-m-kib', '8192', '--log-level', 'info'],
    null, /listening on https:\/\/127\.0\.0\.1:(\d+)\/ \(certificate sha256 ([0-9A-Fa-f:]+)\)/);
  const gwUrl = `wss://127.0.0.1:${gw[1]}`;
  const fingerprint = gw[2];
  const mine = await startConsole('console-mara', 'mara.k', cw.totp_secret, gwUrl, fingerprint);
  const theirs = await startConsole('console-colleague', 'colleague.b', other.totp_secret, gwUrl, fingerprint);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });

  // 1. Her web page on a 375-px phone: "Please call me" with today's and tomorrow's times.
  const herContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 375, height: 740 } });
  const herPage = await herContext.newPage();
  await herPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await herPage.fill('#code', her.recovery_code);
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=login]')]);
  await herPage.waitForLoadState('load');
  check(await herPage.locator('#call-title').textContent() === 'A call', 'her page has a call section ("A call")');
  const choices = await herPage.locator('fieldset.call .choice label').allTextContents();
  check(choices.length >= 3 && choices.length <= 6 && choices.slice(-3).every((c) => c.startsWith('Tomorrow, ')) &&
    choices.some((c) => c === 'Today, afternoon 12:00–17:00'),
  `the times offered are today's still open and tomorrow's, in her time zone (${choices.join(' | ')})`);
  await axeCheck(herPage, 'survivor page with the call section at 375 px');
  // Keyboard only: Tab reaches the first time, Space ticks it, Tab reaches the button, Enter asks.
  await herPage.locator('#text').focus();
  let reached = false;
  for (let i = 0; i < 6 && !reached; i++) {
    await herPage.keyboard.press('Tab');
    reached = await herPage.evaluate(() => document.activeElement?.name === 'w0');
  }
  check(reached, 'Tab reaches the first time to choose');
  await herPage.keyboard.press('Space');
  check(await herPage.locator('input[name=w0]').isChecked(), 'Space ticks it');
  const firstChoice = await herPage.locator('label[for=w0]').textContent();
  const afternoonIndex = choices.indexOf('Today, afternoon 12:00–17:00');
  if (afternoonIndex !== 0) {
    await herPage.keyboard.press('Space');  // untick the first, tick the afternoon instead
    await herPage.locator(`input[name=w${afternoonIndex}]`).check();
  }
  console.log(`     (first offered: ${firstChoice})`);
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=call]')]);
  await herPage.waitForLoadState('load');
  const answer = (await herPage.locator('#status').textContent()) || '';
  check(answer.startsWith('Thank you. Someone will call you: ') && /\d{4}-\d\d-\d\d 12:00–17:00$/.test(answer),
    `the page answers calmly with the time in her zone ("${answer}")`);
  check(await herPage.locator('#status').getAttribute('role') === 'status' &&
    await herPage.evaluate(() => document.activeElement?.id) === 'status', 'the answer is a status that gets the focus (read by screen readers)');
  check(!(await herPage.content()).includes(DIGITS), 'her page never shows her number');
  await axeCheck(herPage, 'survivor page after asking for a call');
  // In Arabic: the same section, right to left, its words from the catalogue.
  await herPage.selectOption('#lang', 'ar');
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=lang]')]);
  await herPage.waitForLoadState('load');
  check(await herPage.locator('button[value=call]').textContent() === 'اتصلوا بي من فضلكم' &&
    await herPage.evaluate(() => document.documentElement.dir) === 'rtl', 'in Arabic the button reads "اتصلوا بي من فضلكم", right to left');
  await axeCheck(herPage, 'survivor page with the call section in Arabic at 375 px');
  if (SHOTS) await herPage.screenshot({ path: path.join(SHOTS, 'notes-call-ar.png'), fullPage: true });
  await herPage.selectOption('#lang', 'en');
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=lang]')]);

  // 2. Her caseworker's console: the task at the top of her thread, her row marked.
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  await page.goto(mine.link);
  const row = page.locator(`#inbox-rows tr[data-account="${her.account}"]`);
  await waitFor(async () => (await row.locator('[data-note="callback"]').count()) === 1, 'her row in the inbox is marked "call back"', 20000);
  await row.locator('a').click();
  const task = page.locator('#callback');
  await waitFor(async () => task.isVisible(), 'the call-back task is at the top of her thread');
  check(await page.evaluate(() => {
    const t = document.getElementById('callback'); const m = document.getElementById('messages');
    return !!(t.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
  }), 'above her messages');
  check(await page.locator('#callback-title').textContent() === 'She asked to be called', 'titled "She asked to be called"');
  const hers = (await page.locator('#callback-hers').textContent()) || '';
  check(hers.startsWith(`Her time (${zone}): `) && hers.includes('12:00–17:00'), `her window in her time zone (${hers})`);
  const yours = (await page.locator('#callback-when').textContent()) || '';
  check(yours.startsWith('When (your time): '), `and in the caseworker's time (${yours})`);
  check(((await page.locator('#callback-from').textContent()) || '').startsWith('From her web page'), 'the channel it came from: her web page');
  await axeCheck(page, 'thread with a call-back task');
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-callback.png'), fullPage: true });

  // 3. The colleague's console cannot reveal her number (not assigned), nor list her task.
  const taskId = Number(await task.getAttribute('data-task'));
  const cpage = await (await browser.newContext()).newPage();
  await cpage.goto(theirs.link);
  const refused = await cpage.evaluate(async (id) => {
    const r = await fetch(`/api/callbacks/${id}/reveal`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'welfare_concern' }) });
    return { status: r.status, body: await r.text() };
  }, taskId);
  check(refused.status === 409 && refused.body.includes('only a caseworker assigned to her case') && !refused.body.includes(DIGITS),
    `another caseworker's console is refused the number (${refused.status} ${refused.body})`);
  const listed = await cpage.evaluate(async () => (await (await fetch('/api/callbacks')).json()).callbacks.length);
  check(listed === 0, "her task is not in the colleague's console");

  // 4. Reveal: a dialog asks why, shows the number once; closing it removes the number.
  await page.locator('#callback-reveal').click();
  await waitFor(async () => page.locator('#reveal').evaluate((d) => d.open), 'pressing "Show number to call…" opens a dialog');
  check(!(await page.content()).includes(DIGITS), 'the number is not in the page before it is asked for');
  await page.locator('input[name="reveal-reason"][value="her_request"]').check();
  await axeCheck(page, 'reveal dialog');
  await page.locator('#reveal-show').click();
  await waitFor(async () => (await page.locator('#reveal-number').textContent()) === NUMBER, 'the assigned caseworker sees her number to dial');
  check(await page.evaluate(() => document.activeElement?.id) === 'reveal-number', 'the focus moves to the number');
  await page.locator('#reveal-close').click();
  check(!(await page.locator('#reveal').evaluate((d) => d.open)), 'the dialog closes');
  check(!(await page.content()).includes(DIGITS), 'after closing, the number is nowhere in the page (DOM)');
  check(await page.evaluate(() => document.activeElement?.id) === 'callback-reveal', 'the focus returns to the button');
  // Escape closes it too, and the number goes with it.
  await page.locator('#callback-reveal').click();
  await page.locator('#reveal-show').click();
  await waitFor(async () => (await page.locator('#reveal-number').textContent()) === NUMBER, 'shown again on a new request with a reason');
  await page.keyboard.press('Escape');
  await waitFor(async () => !(await page.content()).includes(DIGITS), 'Escape closes the dialog and removes the number');
  // And a reload: nothing of it comes back.
  await page.reload();
  await waitFor(async () => task.isVisible(), 'after a reload the task is there');
  check(!(await page.content()).includes(DIGITS), 'but the number is not');

  // 5. Outcomes: not reached (an attempt by you), rescheduled (new time), done (task gone).
  await page.locator('#callback-not-reached').click();
  await waitFor(async () => ((await page.locator('#callback-attempts').textContent()) || '').startsWith('Not reached'), '"Not reached" is recorded as an attempt');
  check(((await page.locator('#callback-attempts').textContent()) || '').includes('by you'), 'by you');
  await page.locator('#callback-reschedule').click();
  check(await page.locator('#callback-reschedule').getAttribute('aria-expanded') === 'true' &&
    await page.evaluate(() => document.activeElement?.id) === 'callback-day', 'Reschedule… opens the form and moves the focus to it');
  const tomorrow = new Date(Date.now() + 86400000);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await page.locator('#callback-day').fill(day);
  await page.locator('#callback-start').fill('10:00');
  await page.locator('#callback-end').fill('11:30');
  await axeCheck(page, 'reschedule form');
  await page.locator('#callback-new button[type=submit]').click();
  await waitFor(async () => ((await page.locator('#callback-when').textContent()) || '').includes('10:00–11:30'),
    'the rescheduled time shows in the task (your time)');
  await page.locator('#callback-done').click();
  await waitFor(async () => task.isHidden(), '"Done" closes the task');
  await page.goto(`http://127.0.0.1:${mine.port}/#/`);
  await waitFor(async () => (await row.locator('[data-note="callback"]').count()) === 0, 'and her row is no longer marked');

  // 5b. Her quiet hours cover the start of the time she chooses: the request is taken, her
  // page says from when, and the task tells the caseworker not to call before then.
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', her.case_code, '--quiet-hours', '12:00-14:00']);
  await herPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  const again = await herPage.locator('fieldset.call .choice label').allTextContents();
  await herPage.locator(`input[name=w${again.indexOf('Today, afternoon 12:00–17:00')}]`).check();
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=call]')]);
  await herPage.waitForLoadState('load');
  const later = (await herPage.locator('#status').textContent()) || '';
  check(/^Thank you\. Someone will call you, not before: \d{4}-\d\d-\d\d 14:00$/.test(later),
    `in her quiet hours the page says from when she will be called ("${later}")`);
  await page.goto(`http://127.0.0.1:${mine.port}/#/thread/${her.account}`);
  await waitFor(async () => ((await page.locator('#callback-quiet').textContent()) || '').includes('14:00 her time'),
    'the task says not to call before the end of her quiet hours (14:00 her time)');
  console.log(`     (${await page.locator('#callback-quiet').textContent()})`);
  await page.locator('#callback-done').click();
  await waitFor(async () => task.isHidden(), 'done again');
  run([GATEWAY, 'admin', 'survivor-update', '--data-dir', gwDir, '--case', her.case_code, '--quiet-hours', 'none']);

  // 6. Her consent withdrawn: a new request is refused, neutrally.
  run([GATEWAY, 'admin', 'consent-withdraw', '--data-dir', gwDir, '--case', her.case_code, '--channel', 'voice_callback', '--purpose', 'replies', '--by', cw.account]);
  await herPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await herPage.locator('input[name=w0]').check();
  await Promise.all([herPage.waitForEvent('framenavigated'), herPage.click('button[value=call]')]);
  await herPage.waitForLoadState('load');
  const refusal = (await herPage.locator('#status').textContent()) || '';
  check(refusal === 'A call cannot be arranged at the moment. You can still write a note here.',
    `with her consent withdrawn, the page says neutrally that a call cannot be arranged ("${refusal}")`);
  check(!/consent|withdr|duress/i.test(refusal), 'and does not say why');
  await axeCheck(herPage, 'survivor page after a refused call request');

  // 6b. Signed in with her duress code, she asks to be called: the same neutral refusal, and
  // her team gets the gateway's line (not shown as written by her).
  run([GATEWAY, 'admin', 'consent-record', '--data-dir', gwDir, '--case', her.case_code, '--channel', 'voice_callback', '--purpose', 'replies', '--by', cw.account, '--address-stdin'], NUMBER + '\n');
  const duressPage = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 375, height: 740 } })).newPage();
  await duressPage.goto(`https://127.0.0.1:${gw[1]}/notes`);
  await duressPage.fill('#code', her.duress_code);
  await Promise.all([duressPage.waitForEvent('framenavigated'), duressPage.click('button[value=login]')]);
  await duressPage.waitForLoadState('load');
  await duressPage.locator('input[name=w0]').check();
  await Promise.all([duressPage.waitForEvent('framenavigated'), duressPage.click('button[value=call]')]);
  await duressPage.waitForLoadState('load');
  check(((await duressPage.locator('#status').textContent()) || '') === 'A call cannot be arranged at the moment. You can still write a note here.',
    'after a duress sign-in, asking for a call gets the same neutral refusal');
  await page.goto(`http://127.0.0.1:${mine.port}/#/thread/${her.account}`);
  await waitFor(async () => ((await page.locator('#messages li.gateway').allTextContents()).join(' ')).includes('she then asked to be called'),
    "her team sees the gateway's line that she asked to be called after a duress sign-in", 20000);
  check(await task.isHidden(), 'and no call-back task is opened');
  await browser.close();

  // 7. The number is in no console's files or output, nor in the gateway's in clear.
  for (const c of [mine, theirs]) {
    c.child.kill('SIGTERM');
    await new Promise((r) => c.child.once('exit', r));
    check(!c.child.output.includes(DIGITS) && !c.child.errors.includes(DIGITS), `${path.basename(c.dir)} output holds no number`);
    check(filesContain(c.dir, DIGITS).length === 0, `${path.basename(c.dir)} files hold no number`);
  }
  gatewayProc.kill('SIGTERM');
  await new Promise((r) => gatewayProc.once('exit', r));
  check(!gatewayProc.output.includes(DIGITS) && !gatewayProc.errors.includes(DIGITS), 'the gateway log holds no number');
  check(filesContain(gwDir, DIGITS).length === 0, 'the gateway data directory holds no number in clear');
}

main().then(() => {
  cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(failures ? `${failures} check(s) failed` : 'all call-back browser checks passed');
  process.exit(failures ? 1 : 0);
}).catch((e) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
