// Accessibility checks shared by the browser tests (console.test.mjs, and the survivor page's
// tests/adapters/browser/notes.test.mjs): axe-core's WCAG 2.1 A/AA rules, a keyboard-only walk
// and reflow, run on one view in each of the display modes below.
import fs from 'node:fs';

// axe-core (devDependency of this directory).
const AXE_SOURCE = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

// The display modes every view is checked in:
// - a phone 375 CSS px wide;
// - 200 % browser zoom on a 1280 × 800 window: zooming halves the CSS viewport and doubles
//   the device pixels per CSS pixel, so it is emulated as a 640 × 400 CSS px viewport with
//   deviceScaleFactor 2, which is what Chromium lays out at 200 % zoom.
export const MODES = [
  { name: '375 px', viewport: { width: 375, height: 740 }, deviceScaleFactor: 1 },
  { name: '200 % zoom', viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 },
];

// Switches an existing page to `mode` through the DevTools protocol (a persistent context
// cannot change its deviceScaleFactor). `restore` puts the page back to `viewport`.
export async function emulate(page, mode) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setDeviceMetricsOverride', {
    width: mode.viewport.width, height: mode.viewport.height, deviceScaleFactor: mode.deviceScaleFactor, mobile: false });
  return async (viewport) => {
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
    await page.setViewportSize(viewport);
  };
}

// axe-core's WCAG 2.1 A/AA rules on the page as it is now: a list of "rule (targets)".
// Evaluated through the DevTools protocol, which the page's CSP does not govern.
export async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE + '\n;0');
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  });
}

// The controls a keyboard user must be able to reach, in tab order (document order: the
// pages use no positive tabindex), kept in the page as window.__kbControls.
async function listControls(page) {
  return page.evaluate(() => {
    // checkVisibility: also false inside a closed <details> (content-visibility: hidden).
    const shown = (e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && e.checkVisibility({ visibilityProperty: true }) && !e.closest('[inert]');
    };
    const all = Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]'))
      .filter((e) => !e.disabled && e.tabIndex >= 0 && shown(e));
    window.__kbControls = all;
    window.__kbShown = shown;
    return all.map((e) => e.id || e.getAttribute('name') && `${e.tagName.toLowerCase()}[${e.getAttribute('name')}=${e.value}]` ||
      `${e.tagName.toLowerCase()} "${(e.textContent || '').trim().slice(0, 30)}"`);
  });
}

// Where the focus is: its index in window.__kbControls (-1: the document itself, -2: an
// element that is not a visible control, -3: a visible control the page added since it was
// listed, as the console's refresh may), and whether it is visibly focused: an outline of
// at least 2 px with 3:1 contrast against the background around the control, or the
// browser's own ring (outline-style auto, drawn in two contrasting colours).
async function focusState(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) return { index: -1 };
    const listed = window.__kbControls.indexOf(a);
    const index = listed >= 0 ? listed : (window.__kbShown(a) ? -3 : -2);
    const rgb = (c) => (c.match(/[\d.]+/g) || ['0', '0', '0', '0']).map(Number);
    const lum = (c) => {
      const v = rgb(c).slice(0, 3).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
    };
    let around = a.parentElement;
    let bg = 'rgb(255, 255, 255)';
    for (; around; around = around.parentElement) {
      const c = getComputedStyle(around).backgroundColor;
      if (c !== 'transparent' && rgb(c)[3] !== 0) { bg = c; break; }
    }
    const s = getComputedStyle(a);
    const width = parseFloat(s.outlineWidth) || 0;
    const [x, y] = [lum(s.outlineColor), lum(bg)].sort((p, q) => q - p);
    const ratio = (x + 0.05) / (y + 0.05);
    const name = a.id || a.tagName.toLowerCase();
    return { index, name, visible: s.outlineStyle === 'auto' || (s.outlineStyle !== 'none' && width >= 2 && ratio >= 3),
      ring: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} on ${bg}, ${ratio.toFixed(2)}:1` };
  });
}

// Tab, then Shift+Tab, through the whole page: each control is reached once per round, in
// order, with a visible focus ring, and the focus leaves the last control (no trap). The
// focus is moved off any control first, so the walk starts from the document. Returns the
// problems found (empty when none).
export async function keyboardWalk(page) {
  const names = await listControls(page);
  const problems = [];
  for (const [key, step] of [['Tab', 1], ['Shift+Tab', -1]]) {
    await page.evaluate(() => { if (document.activeElement) document.activeElement.blur(); });
    const seen = [];
    for (let i = 0; i < names.length + 3; i++) {
      await page.keyboard.press(key);
      const f = await focusState(page);
      if (f.index === -2) { problems.push(`${key} focused ${f.name}, which is not a visible control`); continue; }
      if (f.index < 0) { seen.push(null); continue; }  // out of the page between two rounds, or new
      if (!f.visible) problems.push(`${key}: no visible focus on ${f.name} (${f.ring})`);
      seen.push(f.index);
    }
    const route = seen.map((j) => (j === null ? '(out)' : names[j])).join(' → ');
    const missed = names.filter((_, i) => !seen.includes(i));
    if (missed.length) problems.push(`${key} never reaches ${missed.join(', ')} (${route})`);
    // Order within a round; where the focus comes back into the page is the browser's affair.
    for (let i = 1; i < seen.length; i++) {
      if (seen[i] === null || seen[i - 1] === null) continue;
      const next = (seen[i - 1] + step + names.length) % names.length;
      if (seen[i] !== next && seen[i] !== seen[i - 1]) {
        problems.push(`${key} goes from ${names[seen[i - 1]]} to ${names[seen[i]]}, not ${names[next]} (${route})`);
        break;
      }
      if (seen[i] === seen[i - 1]) { problems.push(`${key} is trapped on ${names[seen[i]]}`); break; }
    }
  }
  return [...new Set(problems)];
}

// Axe, the keyboard walk and reflow (nothing scrolls sideways) on the page as it is now,
// reported through `check` as one line each, named after `view`.
export async function audit(page, view, check) {
  const found = await axeViolations(page);
  check(found.length === 0, `${view}: axe-core finds no WCAG 2.1 A/AA violation${found.length ? ': ' + found.join('; ') : ''}`);
  const walk = await keyboardWalk(page);
  check(walk.length === 0, `${view}: Tab and Shift+Tab reach every control with a visible focus, no trap${walk.length ? ': ' + walk.join('; ') : ''}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `${view}: nothing scrolls sideways${overflow > 0 ? ` (${overflow} px)` : ''}`);
}
