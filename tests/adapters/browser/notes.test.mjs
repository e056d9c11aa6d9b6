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
const { MODES, audit } = await import('../../browser/a11y.mjs');

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

  // --- Arabic: right to left. From here on her record's language is Arabic.
  const setup = await newPage();
  await setup.goto(`${base}/test/language?ar`);
  await setup.context().close();
  const page4 = await newPage({ locale: 'ar', extraHTTPHeaders: { 'Accept-Language': 'ar' } });
  await page4.setViewportSize({ width: 390, height: 700 });
  await page4.goto(url);
  check(await page4.evaluate(() => document.documentElement.dir) === 'rtl', 'Arabic page renders right to left');
  await signIn(page4, info.code);
  check(await page4.evaluate(() => document.documentElement.dir) === 'rtl', 'signed in, still right to left');
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page4.screenshot({ path: path.join(SHOTS, 'survivor-page-rtl.png'), fullPage: true });
  }
  await page4.context().close();

  // --- Keyboard only, at 375 px, in her language (Arabic from her record, the browser in English).
  const kb = await newPage({ viewport: { width: 375, height: 740 } });
  await kb.goto(url);
  check(await kb.evaluate(() => document.documentElement.lang) === 'en', 'before sign-in: the browser\'s language');
  async function tabTo(id, back = false) {
    for (let i = 0; i < 30; i++) {
      if (await kb.evaluate(() => document.activeElement && document.activeElement.id) === id) return true;
      await kb.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    }
    return false;
  }
  async function enterAndLoad() {
    await Promise.all([kb.waitForEvent('framenavigated'), kb.keyboard.press('Enter')]);
    await kb.waitForLoadState('load');
  }
  check(await tabTo('code'), 'Tab reaches the code field');
  await kb.keyboard.type(info.code);
  await enterAndLoad();
  check(await kb.evaluate(() => document.documentElement.lang) === 'ar' &&
        await kb.evaluate(() => document.documentElement.dir) === 'rtl',
        'after sign-in the page speaks her record\'s language (Arabic, right to left)');
  check(await kb.locator('ol.thread time').first().isVisible() && (await kb.$$('ol.thread li')).length >= 2 &&
        (await kb.$$('ol.thread li')).length === (await kb.$$('ol.thread time')).length,
        'her earlier messages are shown, each with its time');
  check(await tabTo('text'), 'Tab reaches the note box');
  // Ordinary typing: capitals (Shift + letter) at 5 keys a second, then Shift+Tab three times.
  const DRAFT = 'Mina Said Hello Again';
  for (const ch of DRAFT) {
    if (ch >= 'A' && ch <= 'Z') {
      await kb.keyboard.down('Shift'); await kb.keyboard.press(`Key${ch}`); await kb.keyboard.up('Shift');
    } else {
      await kb.keyboard.type(ch);
    }
    await kb.waitForTimeout(40);
  }
  for (let i = 0; i < 3; i++) await kb.keyboard.press('Shift+Tab');
  await kb.waitForTimeout(800);
  check(kb.url() === url, `capitals and Shift+Tab ×3 do not leave the page (${kb.url()})`);
  check(await kb.inputValue('#text') === DRAFT, 'the note typed with Shift is intact');
  for (let i = 0; i < 3; i++) await kb.keyboard.press('Shift');
  await kb.waitForURL(`${base}/notes/away`);
  check(true, 'Shift three times in a row still leaves');
  check((await kb.$$('ul.days li')).length === 5 && await kb.isVisible('h2'),
        'the cover page is an ordinary weather page (today and five days)');
  await kb.goto(url);
  check(await tabTo('code'), 'signing in again by keyboard');
  await kb.keyboard.type(info.code);
  await enterAndLoad();
  check(await kb.inputValue('#text') === DRAFT, 'her unsent note is back after the quick exit');
  check(await kb.evaluate(() => document.activeElement.id) === 'status',
        'the "note kept" status has the focus');
  // Send by keyboard: the confirmation is calm, announced and focused.
  check(await tabTo('text'), 'Tab back to the note box');
  await kb.keyboard.press('Tab');
  check(await kb.evaluate(() => document.activeElement.value) === 'send', 'Tab moves on to Send');
  await enterAndLoad();
  const status = await kb.evaluate(() => {
    const s = document.getElementById('status');
    return s && { focused: document.activeElement === s, role: s.getAttribute('role'), cls: s.className,
      bg: getComputedStyle(s).backgroundColor };
  });
  check(status && status.focused && status.role === 'status' && /\bok\b/.test(status.cls),
        `"Sent." is a focused status, styled as a confirmation (${JSON.stringify(status)})`);
  check(status && status.bg !== 'rgb(255, 247, 220)', 'the confirmation does not use the warning colour');
  // Targets of at least 44 × 44 px.
  const small = await kb.evaluate(() => Array.from(document.querySelectorAll('button, select, a, input:not([type=hidden]), textarea'))
    .map((e) => { const r = e.getBoundingClientRect(); return { id: e.id || e.value || e.tagName, w: r.width, h: r.height }; })
    .filter((r) => r.w < 44 || r.h < 44));
  check(small.length === 0, `every target is at least 44 × 44 px at 375 px (${JSON.stringify(small)})`);
  const overflowAr = await kb.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflowAr <= 0, `no horizontal scrolling in Arabic at 375 px (${overflowAr})`);
  check(await kb.$$eval('#lang option', (os) => os.every((o) => o.lang === o.value)),
        'every language name carries its lang');
  async function aligned(what) {
    const a = await kb.evaluate(() => {
      const s = document.getElementById('lang').getBoundingClientRect();
      const b = document.querySelector('button[value=lang]').getBoundingClientRect();
      return { s: s.bottom, b: b.bottom, sh: s.height, bh: b.height };
    });
    check(Math.abs(a.s - a.b) <= 1 && Math.abs(a.sh - a.bh) <= 1,
          `${what}: the language menu and its button line up (${JSON.stringify(a)})`);
  }
  await aligned('Arabic');
  await kb.selectOption('#lang', 'ro');
  check(await tabTo('lang'), 'Tab reaches the language menu');
  await kb.keyboard.press('Tab');
  await enterAndLoad();
  check(await kb.evaluate(() => document.documentElement.lang) === 'ro', 'language changed to Romanian by keyboard');
  await aligned('Romanian');
  // The exit: a focus ring of at least 3:1 against the page, and Space activates it.
  check(await tabTo('exit', true), 'Shift+Tab reaches "Leave quickly"');
  const contrast = await kb.evaluate(() => {
    const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const lum = (c) => { const v = rgb(c).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
    const ring = getComputedStyle(document.getElementById('exit')).outlineColor;
    const page = getComputedStyle(document.documentElement).backgroundColor;
    const [a, b] = [lum(ring), lum(page)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  });
  check(contrast >= 3, `the exit's focus ring has ${contrast.toFixed(2)}:1 contrast (≥ 3:1)`);
  await kb.keyboard.press('Space');
  await kb.waitForURL(`${base}/notes/away`);
  check(true, 'Space activates "Leave quickly"');
  await kb.context().close();

  // --- A wrong code: an alert with the focus, and the field marked invalid.
  const wrong = await newPage({ viewport: { width: 375, height: 740 } });
  await signIn(wrong, '1234');
  const invalid = await wrong.evaluate(() => ({
    focused: document.activeElement && document.activeElement.id,
    role: document.getElementById('status') && document.getElementById('status').getAttribute('role'),
    inv: document.getElementById('code').getAttribute('aria-invalid'),
    by: document.getElementById('code').getAttribute('aria-describedby') }));
  check(invalid.focused === 'status' && invalid.role === 'alert' && invalid.inv === 'true' && invalid.by === 'status',
        `a failed sign-in is a focused alert and marks the code field (${JSON.stringify(invalid)})`);
  await wrong.context().close();

  // --- The Shift hint: shown with a keyboard, hidden on a touch-only phone.
  const desk = await newPage();
  await desk.goto(url);
  check(await desk.isVisible('.hint.keys'), 'the Shift hint shows on a computer');
  await desk.context().close();
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(url);
  check(!(await phone.isVisible('.hint.keys')), 'the Shift hint is hidden on a phone without a keyboard');
  await phone.context().close();

  // --- Every view, in English and in Arabic, at 375 px and at 200 % zoom (MODES in
  // tests/browser/a11y.mjs): axe-core's WCAG 2.1 A/AA rules, a Tab and Shift+Tab walk over
  // every control, and no sideways scrolling. She moves between the views by keyboard only:
  // typing, Tab, Enter and Space.
  for (const lang of ['en', 'ar']) {
    const setLanguage = await newPage();
    await setLanguage.goto(`${base}/test/language?${lang}`);
    await setLanguage.context().close();
    for (const mode of MODES) {
      const where = `${lang}, ${mode.name}`;
      const v = await newPage({ viewport: mode.viewport, deviceScaleFactor: mode.deviceScaleFactor,
        locale: lang, extraHTTPHeaders: { 'Accept-Language': lang } });
      const focusOn = async (id, back = false) => {
        for (let i = 0; i < 30; i++) {
          if (await v.evaluate(() => document.activeElement && document.activeElement.id) === id) return true;
          await v.keyboard.press(back ? 'Shift+Tab' : 'Tab');
        }
        throw new Error(`${where}: Tab does not reach #${id}`);
      };
      const pressAndLoad = async (key) => {
        await Promise.all([v.waitForEvent('framenavigated'), v.keyboard.press(key)]);
        await v.waitForLoadState('load');
      };
      const flash = () => v.evaluate(() => document.getElementById('status') && document.getElementById('status').textContent);
      // Enter in the code field, or Tab to the button and Enter or Space on it.
      const signInByKeyboard = async (code, key = 'Enter', onButton = false) => {
        await focusOn('code');
        await v.keyboard.type(code);
        if (onButton) await v.keyboard.press('Tab');
        await pressAndLoad(key);
      };
      const signOutBySpace = async () => {
        await v.evaluate(() => { if (document.activeElement) document.activeElement.blur(); });
        for (let i = 0; i < 12 && await v.evaluate(() => document.activeElement.value) !== 'logout'; i++) await v.keyboard.press('Tab');
        await pressAndLoad('Space');
      };
      await v.goto(url);
      check(await v.evaluate(() => document.documentElement.lang) === lang, `${where}: the page is in ${lang}`);
      await audit(v, `sign-in (${where})`, check);
      await signInByKeyboard('1234');
      await audit(v, `wrong code (${where})`, check);
      // Another try at once is asked to wait (the delay after a failure).
      for (let i = 0; i < 4 && !/wait|انتظري/.test(await flash() || ''); i++) {
        await signInByKeyboard('1234');
      }
      check(/wait|انتظري/.test(await flash() || ''), `${where}: a second try at once is asked to wait`);
      // Her code was not checked: the sentence describes the field without calling it wrong.
      const unchecked = async (p) => p.evaluate(() => {
        const c = document.getElementById('code');
        return c.getAttribute('aria-describedby') === 'status' && !c.hasAttribute('aria-invalid');
      });
      check(await unchecked(v), `${where}: "please wait" does not mark her code wrong`);
      await audit(v, `"please wait" (${where})`, check);
      for (let i = 0; i < 20 && !(await v.$('#text')); i++) {
        await v.waitForTimeout(500);
        await signInByKeyboard(info.code, 'Space', true);
      }
      check(await v.evaluate(() => document.documentElement.dir) === (lang === 'ar' ? 'rtl' : 'ltr'), `${where}: signed in, in her language's direction`);
      check((await v.$$('ol.thread li.me')).length >= 1 && (await v.$$('ol.thread li.them')).length >= 1,
            `${where}: her thread holds her earlier notes and a reply`);
      await audit(v, `her thread (${where})`, check);
      await focusOn('text');
      await v.keyboard.type(lang === 'ar' ? 'شكراً، قرأت الرد.' : 'Thank you, I read it.');
      await v.keyboard.press('Tab');
      await pressAndLoad('Space');
      check(await v.isVisible('#status.ok'), `${where}: Space on Send sends the note`);
      await audit(v, `"Sent." (${where})`, check);
      // A note over the limit (longer than the box allows, as a pasted text can be).
      await v.evaluate(() => { document.getElementById('text').value = 'x'.repeat(4001); });
      await focusOn('text');
      await v.keyboard.press('Tab');
      await pressAndLoad('Enter');
      check(await v.isVisible('#status.problem') && await v.getAttribute('#text', 'aria-invalid') === 'true' &&
            await v.getAttribute('#text', 'aria-describedby') === 'status',
            `${where}: a note over the limit is refused with a sentence that marks her note box`);
      await audit(v, `"too long" (${where})`, check);
      await focusOn('text');
      await v.keyboard.press('Control+A');
      await v.keyboard.type(lang === 'ar' ? 'مسودة لم تُرسل' : 'A draft not sent yet');
      await v.waitForTimeout(700);  // the draft is saved as she types
      await focusOn('exit', true);
      await Promise.all([v.waitForURL(`${base}/notes/away`), v.keyboard.press('Enter')]);
      await v.waitForLoadState('load');
      await audit(v, `cover page after the quick exit (${where})`, check);
      await v.goto(url);
      await signInByKeyboard(info.code);
      check(await v.inputValue('#text') !== '' && await v.isVisible('#status.ok'), `${where}: her unsent note is kept`);
      await audit(v, `"note kept" (${where})`, check);
      await focusOn('text');
      await v.keyboard.press('Control+A');
      await v.keyboard.press('Delete');
      await signOutBySpace();
      check(await v.isVisible('#code'), `${where}: Space on "Sign out" signs her out`);
      await audit(v, `signed out (${where})`, check);
      // The language menu by keyboard: the down arrow picks the next language (neither en nor
      // ar is the last), Enter on Change.
      await focusOn('lang');
      await v.keyboard.press('ArrowDown');
      await v.keyboard.press('Tab');
      await pressAndLoad('Enter');
      check(await v.evaluate(() => document.documentElement.lang) !== lang, `${where}: the language menu works by keyboard`);
      await signInByKeyboard(info.duress, 'Enter', true);
      check(await v.isVisible('#empty'), `${where}: her duress code shows an empty page`);
      await audit(v, `empty page after the duress code (${where})`, check);
      await signOutBySpace();  // her sessions are limited (four at once): leave none behind
      await v.context().close();
      // One sign-in more than her sessions allow is told the page is full.
      const open = [];
      let full = null;
      for (let i = 0; i < 6 && !full; i++) {
        const p = await newPage({ viewport: mode.viewport, deviceScaleFactor: mode.deviceScaleFactor,
          locale: lang, extraHTTPHeaders: { 'Accept-Language': lang } });
        await signIn(p, info.code);
        if (await p.$('#text')) open.push(p); else full = p;
      }
      check(full && await full.isVisible('#status.problem') && await unchecked(full),
            `${where}: a sign-in beyond her open sessions is told the page is full, her code not marked wrong`);
      if (full) {
        await audit(full, `"page full" (${where})`, check);
        await full.context().close();
      }
      for (const p of open) {
        await Promise.all([p.waitForEvent('framenavigated'), p.click('button[value=logout]')]);
        await p.context().close();
      }
    }
  }

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
  if (server.exitCode !== null || server.signalCode !== null) console.error(`the server stopped (${server.exitCode ?? server.signalCode}):\n${serverErr.slice(-4000)}`);
  failures++;
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
