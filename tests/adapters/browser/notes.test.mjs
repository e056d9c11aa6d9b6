// Browser end-to-end test of the survivor web page (/notes): a real TLS gateway server with the
// edge hub (notes-test-server), Debian's chromium driven by playwright-core (installed in
// tests/browser: run `npm ci` there). Exit status 0 when every check passed.
//
// Environment: ARIADNE_NOTES_SERVER (binary), ARIADNE_SCREENSHOTS (directory for the RTL
// screenshot; optional), CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const SERVER = process.env.ARIADNE_NOTES_SERVER;
const SHOTS = process.env.ARIADNE_SCREENSHOTS || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!SERVER || !fs.existsSync(SERVER)) { console.error(`ARIADNE_NOTES_SERVER must name the built notes-test-server (got ${SERVER})`); process.exit(1); }

const CANARY = 'canary-browser-71b4';
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const server = spawn(SERVER, [], { stdio: ['ignore', 'pipe', 'pipe'] });
let serverErr = '';
server.stderr.on('data', (d) => { serverErr += d; });
process.on('exit', () => { try { server.kill('SIGTERM'); } catch { /* gone */ } });
const info = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('server did not start\n' + serverErr)), 60000);
  server.stdout.on('data', (d) => {
    out += d;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) { clearTimeout(timer); resolve(JSON.parse(line)); }
  });
  server.on('exit', (code) => reject(new Error(`server exited ${code}\n${serverErr}`)));
});
const base = `https://127.0.0.1:${info.port}`;
const url = `${base}/notes`;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
async function newPage(options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
  const page = await context.newPage();
  page.cspErrors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.cspErrors.push(m.text()); });
  await page.goto('about:blank');
  return page;
}
async function state() {
  const page = await newPage();
  const r = await page.goto(`${base}/test/state`);
  const s = JSON.parse(await r.text());
  await page.context().close();
  return s;
}
async function signIn(page, code) {
  await page.goto(url);
  await page.fill('#code', code);
  await Promise.all([page.waitForEvent('framenavigated'), page.click('button[value=login]')]);
  await page.waitForLoadState('load');
}

try {
  // --- Sign in, write, read the reply: one URL, one history entry, no CSP violations.
  const page = await newPage();
  const response = await page.goto(url);
  const headers = response.headers();
  check(/script-src 'self'/.test(headers['content-security-policy'] || ''), 'strict CSP header');
  check((headers['cache-control'] || '').includes('no-store'), 'Cache-Control: no-store');
  const historyAtStart = await page.evaluate(() => history.length);
  await signIn(page, info.code);
  check(await page.isVisible('#text'), 'recovery code opens the conversation');
  await page.fill('#text', `${CANARY} hello`);
  await Promise.all([page.waitForEvent('framenavigated'), page.click('button[value=send]')]);
  await page.waitForLoadState('load');
  check((await page.textContent('body')).includes('Sent.'), 'note sent');
  let replied = false;
  for (let i = 0; i < 50 && !replied; i++) {
    await page.waitForTimeout(200);
    await page.reload();
    replied = (await page.textContent('body')).includes('Reply: 1');
  }
  check(replied, 'the caseworker\'s reply appears on the page');
  check(page.url() === url, `URL never changed (${page.url()})`);
  const historyNow = await page.evaluate(() => history.length);
  check(historyNow === historyAtStart,
        `signing in, writing and reading added no history entry (was ${historyAtStart}, now ${historyNow})`);
  check(page.cspErrors.length === 0, 'no CSP violations');
  const cookies = await page.context().cookies();
  check(cookies.length === 1 && cookies[0].httpOnly && cookies[0].expires === -1,
        'one HttpOnly session cookie only');
  const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
  check(storage === 0, 'nothing in local or session storage');

  // --- Small screen at 200 % zoom: 640 px wide phone at 200 % = 320 CSS px; nothing scrolls sideways.
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `no horizontal scrolling at 320 CSS px (overflow ${overflow})`);

  // --- Quick exit by button: neutral page, Back does not return to the conversation.
  await page.click('#exit');
  await page.waitForURL(`${base}/notes/away`);
  check((await page.textContent('body')).includes('Weather'), 'quick exit (button) shows a neutral page');
  await page.goBack();
  await page.waitForLoadState('load');
  const afterBack = await page.textContent('body').catch(() => '');
  check(!afterBack.includes('Reply: 1') && !afterBack.includes(CANARY), `Back after the quick exit does not show the conversation (${page.url()})`);
  await page.goto(url);
  check(await page.isVisible('#code'), 'the session ended with the quick exit');
  await page.context().close();

  // --- Quick exit by keyboard: Shift three times.
  const page2 = await newPage();
  await signIn(page2, info.code);
  check(await page2.isVisible('#text'), 'signed in again');
  for (let i = 0; i < 3; i++) await page2.keyboard.press('Shift');
  await page2.waitForURL(`${base}/notes/away`);
  check(true, 'Shift three times leaves to the neutral page');
  await page2.goBack();
  await page2.waitForLoadState('load');
  const back2 = await page2.textContent('body').catch(() => '');
  check(!back2.includes('Reply: 1'), 'Back after the keyboard exit does not show the conversation');
  await page2.context().close();

  // --- Duress: an ordinary empty page, and a silent alert to her team.
  const before = await state();
  const page3 = await newPage();
  await signIn(page3, info.duress);
  check(await page3.isVisible('#empty'), 'duress code shows an ordinary, empty page');
  check(!(await page3.textContent('body')).includes('Reply: 1'), 'duress page shows none of her history');
  let alerted = false;
  for (let i = 0; i < 50 && !alerted; i++) {
    alerted = (await state()).alerts > before.alerts;
    if (!alerted) await page3.waitForTimeout(200);
  }
  check(alerted, 'the duress sign-in raised an alert at the console');
  await page3.context().close();

  // --- Arabic: right to left.
  const page4 = await newPage({ locale: 'ar', extraHTTPHeaders: { 'Accept-Language': 'ar' } });
  await page4.setViewportSize({ width: 390, height: 700 });
  await page4.goto(url);
  check(await page4.evaluate(() => document.documentElement.dir) === 'rtl', 'Arabic page renders right to left');
  await signIn(page4, info.code);
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page4.screenshot({ path: path.join(SHOTS, 'survivor-page-rtl.png'), fullPage: true });
  }
  await page4.context().close();

  // --- Canary scan of the gateway's data directory (database, WAL, edge stores, history).
  let disk = '';
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else disk += fs.readFileSync(p, 'latin1'); } };
  walk(info.data);
  check(!disk.includes(CANARY), 'her note is nowhere on disk in clear');
  check(!disk.includes(info.code.replace(/ /g, '')) && !disk.includes(info.code), 'her code is nowhere on disk');
  check(!disk.includes(info.duress.replace(/ /g, '')), 'her duress code is nowhere on disk');
  check(!serverErr.includes(CANARY) && !serverErr.includes(info.code), 'the server log holds neither');
} catch (e) {
  console.error(e);
  failures++;
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
