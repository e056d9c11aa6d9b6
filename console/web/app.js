// Ariadne console UI. Plain DOM, no framework, no innerHTML: every text goes through
// textContent, so nothing a message contains can become markup.
'use strict';

const $ = (id) => document.getElementById(id);
let currentAccount = null;
let threadState = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path, body) {
  const options = { credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    options.method = 'POST';
    options.headers = { 'Content-Type': 'application/json' };
    options.body = JSON.stringify(body);
  }
  const r = await fetch(path, options);
  if (r.status === 401) {
    // The console restarted or the session ended: the styled sign-in page says what to do.
    location.replace('/signin');
    const e = new Error('Signed out.');
    e.signedOut = true;
    throw e;
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || ('The console answered ' + r.status + '.'));
  return data;
}

// Initials and case code only; the opaque account id when the gateway gave neither.
function who(c) {
  const parts = [c.initials, c.case_code].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'Account ' + c.account;
}

// The same, as nodes: her initials in <bdi> so a right-to-left "س.ع." keeps its dots in place
// and does not reorder the case code next to it.
function whoNode(c) {
  const span = el('span', { class: 'who' });
  if (c.initials) span.append(el('bdi', { dir: 'auto' }, c.initials));
  if (c.initials && c.case_code) span.append(' · ');
  if (c.case_code) span.append(c.case_code);
  if (!c.initials && !c.case_code) span.append('Account ' + c.account);
  return span;
}

// Sets a node's text only when it changed: a live region then speaks only what is new, and a
// refresh that finds nothing new touches nothing.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// Polite announcements for screen readers (a visually hidden live region): one sentence per
// event the caseworker did not cause by looking (a new alert, a reply sent).
function announce(text) {
  const box = $('announce');
  box.textContent = '';
  // A separate task so the same sentence twice is still spoken twice.
  setTimeout(() => { box.textContent = text; }, 50);
}

// Replaces `node`'s children only when the rendering key changed; returns true if it did.
function renderIfChanged(node, key, build) {
  if (node.dataset.key === key) return false;
  node.dataset.key = key;
  node.replaceChildren(...build());
  return true;
}

function when(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
                 : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

const stateText = {
  received: 'received',
  sending: 'sending…',
  committed: 'sent — stored at the gateway',
  delivered: 'delivered to her phone',
  waiting_on_page: 'waiting on her page',
  read_on_page: 'read on her page',
  refused: 'not sent',
  failed: 'not sent — connection problem',
  not_delivered: 'Not delivered (SMS)',
};

// A reply to her web page waits there until she opens the page: the gateway's receipts say
// "kept" (waiting_on_page), then "read" (read_on_page). Only her app's receipt means her
// phone; a bare receipt from the gateway's edge is the SMS network's (or, kept before these
// receipts existed, the page's) and never claims her phone on a web thread.
function messageState(m) {
  if (m.outbound && m.state === 'delivered' && m.delivered_by === 'app') return stateText.delivered;
  if (m.channel === 'web' && m.outbound && (m.state === 'committed' || m.state === 'delivered')) {
    return 'waiting on her page';
  }
  if (m.channel === 'sms' && m.outbound && m.state === 'delivered') return 'delivered by SMS';
  return stateText[m.state] || m.state;
}

const channelNames = { app: 'app', web: 'web page', sms: 'SMS' };

// The channel and its security label are the gateway's words, shown as given; a thread the
// gateway has not described (yet) is "unknown", never guessed.
function channelText(c) {
  if (!c.channel) return 'unknown';
  return (c.channel.kind || 'unknown') + ' — ' + (c.channel.label || 'unknown');
}

function channelSecurity(c) {
  return (c.channel && c.channel.security) || 'unknown';
}

// The case status an administrator set; an active case needs no line.
function statusText(c) {
  if (!c.status || c.status === 'active') return '';
  if (c.status === 'closed') return 'Her case is closed: no check-ins go out to her; she can still write in, and you can reply.';
  if (c.status === 'dormant') return 'Her case is dormant.';
  return 'Case status: ' + c.status + '.';
}

const unverifiedText = 'Unverified number: nothing can be sent to it until you have checked who wrote ' +
  '(the agreed safe word) and her SMS consent is recorded with this number.';

// Connected and not connected must look different, not only read differently: the problem
// states get their own colour and a marker, and the text is set only when it changes.
function showConnection(state, text) {
  const box = $('connection');
  if (box.dataset.state !== state) box.dataset.state = state;
  setText($('connection-text'), text);
}

async function refreshStatus() {
  try {
    const s = await api('/api/status');
    ownAccount = s.account || '';
    if (s.connection_problem) showConnection('unreachable', 'Cannot reach the gateway. The console keeps trying; messages wait safely at the gateway until then.');
    else showConnection('connected', 'Connected to the gateway');
  } catch (e) {
    if (e.signedOut) return;
    showConnection('console-down', 'The console is not answering. Is ariadne-console still running?');
  }
}

let confirmingAlert = null;  // the alert id whose clearing waits for confirmation

const alertTitles = {
  duress: 'Urgent: danger signal',
  identity_changed: 'Check her identity',
  new_device: 'New device',
  unverified_channel: 'Unverified channel',
  missed_checkin: 'Missed check-in',
  checkin_undeliverable: 'Check-in could not be sent',
  device_revoked: 'A team device was revoked',
  undecryptable: 'A message could not be read',
  callback_not_reached: 'Call-back: not reached',
};

async function clearAlert(id) {
  try {
    await api('/api/alerts/' + id + '/clear', { confirm: true });
    confirmingAlert = null;
    $('status').textContent = 'Alert cleared.';
  } catch (e) {
    $('status').textContent = e.message;
  }
  await refreshAlerts();
}

function alertControls(a) {
  if (!a.clearable) return [];
  if (confirmingAlert !== a.alert_id) {
    return [el('button', { type: 'button', class: 'clear', 'data-alert': a.alert_id, onclick: () => {
      confirmingAlert = a.alert_id;
      refreshAlerts().then(() => document.querySelector('[data-confirm="' + a.alert_id + '"]')?.focus());
    } }, 'Clear alert…')];
  }
  const warning = a.kind === 'duress'
    ? 'Clear only after you have checked on her safety by another agreed means. Replies and check-ins to her resume.'
    : 'Clear only after you have dealt with it.';
  return [el('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm clearing this alert' },
    el('p', {}, warning),
    el('button', { type: 'button', 'data-confirm': a.alert_id, onclick: () => clearAlert(a.alert_id) }, 'Yes, clear this alert'),
    el('button', { type: 'button', class: 'secondary', onclick: () => {
      confirmingAlert = null;
      refreshAlerts().then(() => document.querySelector('[data-alert="' + a.alert_id + '"]')?.focus());
    } }, 'Cancel'))];
}

function alertKey(a) {
  return a.alert_id ? 'g' + a.alert_id : a.kind + ':' + (a.account || '');
}

const announcedAlerts = new Set();
let alertsLoaded = false;

// Alerts are keyed; an alert already on the page is left alone (its focus too), a new one is
// added in the gateway's order and announced once, a gone one removed.
async function refreshAlerts() {
  const box = $('alerts');
  let data;
  try { data = await api('/api/alerts'); } catch (e) { return; }
  const wanted = new Map();
  for (const a of data.alerts) wanted.set(alertKey(a), a);
  for (const node of [...box.children]) {
    if (!wanted.has(node.dataset.alertKey)) node.remove();
  }
  let before = box.firstElementChild;
  for (const [key, a] of wanted) {
    let node = [...box.children].find((n) => n.dataset.alertKey === key);
    if (!node) {
      node = el('div', { 'data-alert-key': key });
      if (alertsLoaded && !announcedAlerts.has(key)) {
        announce((alertTitles[a.kind] || 'Alert') + ': ' + a.sentence);
      }
    }
    announcedAlerts.add(key);
    const w = a.who || { account: a.account };
    const named = !!(w.initials || w.case_code || w.account);
    const render = JSON.stringify([a.kind, a.sentence, a.urgent, a.time_ms, w, a.clearable, confirmingAlert === a.alert_id]);
    node.className = 'alert' + (a.urgent ? ' urgent' : '');
    node.setAttribute('role', a.urgent ? 'alert' : 'note');
    node.setAttribute('data-kind', a.kind);
    renderIfChanged(node, render, () => {
      const whoPart = named ? whoNode(w) : 'not linked to a case yet';
      const parts = [el('strong', {}, (alertTitles[a.kind] || 'Alert') + ' — ', whoPart), el('span', {}, a.sentence + ' ')];
      if (a.account) parts.push(el('a', { href: '#/thread/' + a.account }, 'Open conversation with ', named ? whoNode(w) : 'her'));
      if (a.time_ms) parts.push(el('span', { class: 'meta' }, ' · raised ' + when(a.time_ms)));
      return [...parts, ...alertControls(a)];
    });
    if (node !== before) box.insertBefore(node, before);
    before = node.nextElementSibling;
  }
  alertsLoaded = true;
}

function inboxCells(c) {
  const notes = [];
  if (!c.verified) notes.push(' ', el('span', { class: 'label calm', 'data-note': 'not-verified' }, 'not verified yet'));
  if (c.unverified) notes.push(' ', el('span', { class: 'label', 'data-note': 'unverified' }, 'unverified number'));
  if (c.status && c.status !== 'active') notes.push(' ', el('span', { class: 'label', 'data-note': 'status' }, 'case ' + c.status));
  if (c.callback) notes.push(' ', el('span', { class: 'label callback-mark', 'data-note': 'callback' }, 'call back'));
  // data-label names each cell where the table's header row is hidden (narrow screens).
  return [
    el('td', { 'data-label': 'Who' }, el('a', { href: '#/thread/' + c.account }, whoNode(c)), ...notes),
    el('td', { 'data-label': 'Channel', 'data-security': channelSecurity(c) }, channelText(c)),
    el('td', { 'data-label': 'Last activity' }, when(c.last_activity_ms)),
    el('td', { 'data-label': 'Unread' }, c.unread ? el('span', { class: 'badge', 'aria-label': c.unread + ' unread' }, c.unread) : '0'),
    el('td', { 'data-label': 'Check-in' }, c.checkin || 'not set up',
      ...(c.checkin_note ? [' ', el('span', { class: 'checkin-note', 'data-note': 'checkin' },
        c.checkin_note + (c.checkin === 'scheduled' && c.checkin_next ? ' (' + when(c.checkin_next) + ')' : ''))] : []))];
}

// Rows are keyed by account: a refresh that finds a row unchanged leaves it (and the keyboard
// focus on its link) alone; only changed rows are redrawn, and focus is put back if it was in one.
async function refreshInbox() {
  let data;
  try { data = await api('/api/inbox'); } catch (e) { return; }
  const rows = $('inbox-rows');
  const focusedAccount = rows.contains(document.activeElement) ? document.activeElement.closest('tr')?.dataset.account : null;
  $('inbox-empty').hidden = data.conversations.length > 0;
  const notVerified = data.conversations.filter((c) => !c.verified).length;
  const summary = $('inbox-summary');
  summary.hidden = notVerified === 0;
  setText(summary, notVerified === 1
    ? '1 conversation not verified yet. Verify her with the agreed safe word before sharing anything.'
    : notVerified + ' conversations not verified yet. Verify each with the agreed safe word before sharing anything.');
  const wanted = new Set(data.conversations.map((c) => c.account));
  for (const tr of [...rows.children]) if (!wanted.has(tr.dataset.account)) tr.remove();
  let before = rows.firstElementChild;
  let refocus = false;
  for (const c of data.conversations) {
    let tr = rows.querySelector('tr[data-account="' + c.account + '"]');
    if (!tr) {
      tr = el('tr', { 'data-account': c.account });
      tr.addEventListener('click', (e) => { if (!e.target.closest('a')) location.hash = '#/thread/' + c.account; });
    }
    const key = JSON.stringify([c.initials, c.case_code, c.verified, c.unverified, c.status, c.channel, c.last_activity_ms, c.unread, c.checkin, c.checkin_note, c.checkin_next, c.callback]);
    if (renderIfChanged(tr, key, () => inboxCells(c)) && c.account === focusedAccount) refocus = true;
    if (tr !== before) {
      if (c.account === focusedAccount) refocus = true;
      rows.insertBefore(tr, before);
    }
    before = tr.nextElementSibling;
  }
  if (refocus) rows.querySelector('tr[data-account="' + focusedAccount + '"] a')?.focus();
}

// Whether `text` is written in the script of `language` ("Arab" for "ar"); false when the
// browser cannot tell.
function inScriptOf(language, text) {
  try {
    // Simplified and traditional Chinese are both written in the Han script.
    const script = (new Intl.Locale(language).maximize().script || '').replace(/^Han[st]$/, 'Han');
    return !!script && new RegExp('\\p{Script=' + script + '}', 'u').test(text);
  } catch {
    return false;
  }
}

// Her words written in her record's language's script carry that language, so that a screen
// reader reads them with its voice (the console's own words are English). Her words in
// another script are left to the page's language: her record cannot say what they are.
function messageNode(m, language) {
  const li = el('li', { 'data-id': m.id });
  const herWords = !m.outbound && !m.from_gateway && language && inScriptOf(language, m.text) ? { lang: language } : {};
  const key = JSON.stringify([m.state, m.delivered_by, m.refusal, m.channel, m.from_gateway, m.time_ms, herWords.lang]);
  li.className = (m.from_gateway ? 'gateway ' : (m.outbound ? 'out ' : 'in ')) + m.state;
  li.setAttribute('data-state', m.state);
  if (m.channel) li.setAttribute('data-channel', m.channel);
  li.dataset.key = key;
  let meta;
  if (m.from_gateway) {
    meta = 'Ariadne gateway · ' + when(m.time_ms) + ' · not written by her';
  } else {
    meta = (m.outbound ? 'You' : 'Her') + ' · ' + when(m.time_ms) + ' · ' + messageState(m);
    if (m.channel) meta += ' · ' + (channelNames[m.channel] || m.channel);
  }
  // dir="auto": her Arabic or Hebrew text reads right to left, punctuation at the right end.
  li.append(el('span', { class: 'text', dir: 'auto', ...herWords }, m.text), el('span', { class: 'meta' }, meta));
  if (m.refusal) li.append(el('span', { class: 'meta' }, m.refusal));
  return li;
}

function renderThread(t) {
  threadState = t;
  renderCanned();  // her language decides which prepared replies are offered
  const title = $('thread-title');
  renderIfChanged(title, JSON.stringify([t.initials, t.case_code, t.account]), () => [whoNode(t)]);
  setText($('thread-channel'), 'Channel of her last message: ' + channelText(t));
  $('thread-channel').setAttribute('data-security', channelSecurity(t));
  $('thread-unverified').hidden = !t.unverified;
  setText($('thread-unverified'), t.unverified ? unverifiedText : '');
  $('thread-status').hidden = !statusText(t);
  setText($('thread-status'), statusText(t));
  $('never-confirm').hidden = t.never_confirm_client !== true;
  renderCallback(t.callback);
  $('handover').hidden = !t.handover_note;
  setText($('handover-text'), t.handover_note || '');
  const throughGateway = !t.safety_number && !!t.channel && ['sms', 'web'].includes(t.channel.kind);
  setText($('safety-number'), t.safety_number || (throughGateway
    ? 'None yet: only her Ariadne app has a safety number. Her SMS or web-page messages come through the gateway, which holds their keys: verify her with the agreed safe word, then mark it below.'
    : 'Not available yet: it appears after her first message.'));
  $('safety-number').className = t.safety_number ? 'digits' : '';
  setText($('safety-summary'), throughGateway ? 'Verification: ' : 'Safety number: ');
  setText($('safety-state'), t.identity_pending ? 'CHANGED: compare and accept the new one above'
    : (t.identity_changed ? 'CHANGED since you verified it'
      : (t.verified ? (t.verified_by === 'safe_word' ? 'verified by safe word' : 'verified') : 'not verified yet')));
  setText($('verified-label'), throughGateway ? 'Verified by the agreed safe word' : 'Verified');
  $('identity').hidden = !t.identity_pending;
  if (!t.identity_pending) {
    $('identity-number').hidden = true;
    $('identity-confirm').hidden = true;
    $('identity-error').hidden = true;
  }
  // One calm line while she is not verified; a changed identity is the exception and stands out.
  const advice = $('verify-advice');
  advice.hidden = !!t.verified && !t.identity_changed;
  advice.classList.toggle('changed', !!t.identity_changed);
  setText(advice, t.identity_changed
    ? 'Her safety number changed (a new phone or a new recovery code). Verify her with the agreed safe word before sharing anything, then compare the new safety number with her in person.'
    : (throughGateway ? 'Not verified yet: verify her with the agreed safe word before sharing anything, then mark it under "Verification".'
      : 'Not verified yet: verify her with the agreed safe word before sharing anything, then compare the safety number with her.'));
  const toggle = $('verified-toggle');
  toggle.checked = !!t.verified;
  toggle.disabled = (!t.safety_number && !throughGateway) || !!t.identity_pending;
  toggle.dataset.by = throughGateway ? 'safe_word' : 'safety_number';
  // Messages are keyed by id: new ones are appended, changed ones (a state) replaced in place.
  const list = $('messages');
  const atBottom = list.children.length === 0 || window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
  let added = false;
  for (const m of t.messages) {
    const old = existing.get(String(m.id));
    existing.delete(String(m.id));
    const node = messageNode(m, t.language);
    if (!old) { list.append(node); added = true; } else if (old.dataset.key !== node.dataset.key) old.replaceWith(node);
  }
  for (const gone of existing.values()) gone.remove();
  if (added && atBottom) list.lastElementChild?.scrollIntoView({ block: 'nearest' });
}

async function refreshThread() {
  if (!currentAccount) return;
  try { renderThread(await api('/api/thread/' + encodeURIComponent(currentAccount))); } catch (e) {
    if (e.signedOut) return;
    delete $('thread-title').dataset.key;
    setText($('thread-title'), e.message);
  }
}

let cannedData = null;

// The organisation's prepared replies in her language: her exact tag, else the same primary
// language ("pt" for "pt-BR"), else the default language with a note saying so.
function cannedFor(data, language) {
  const by = data.by_language || {};
  const fallback = data.default_language || 'en';
  const wanted = (language || '').toLowerCase();
  const tags = Object.keys(by).filter((k) => Array.isArray(by[k]) && by[k].length);
  let tag = tags.find((k) => k.toLowerCase() === wanted);
  if (!tag && wanted) tag = tags.find((k) => k.toLowerCase().split('-')[0] === wanted.split('-')[0]);
  if (tag) return { language: tag, replies: by[tag], missing: false };
  return {
    language: fallback,
    replies: by[fallback] || data.replies || [],
    missing: !!wanted && wanted.split('-')[0] !== fallback.toLowerCase().split('-')[0],
  };
}

function renderCanned() {
  const box = $('canned');
  const note = $('canned-note');
  if (!cannedData) return;
  const language = threadState && threadState.account === currentAccount ? threadState.language : '';
  const pick = cannedFor(cannedData, language);
  const key = JSON.stringify([language, pick, cannedData]);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.setAttribute('lang', pick.language);
  box.replaceChildren();
  for (const c of pick.replies) {
    box.append(el('button', { type: 'button', dir: 'auto', lang: pick.language, title: c.text, onclick: () => {
      const t = $('reply-text');
      t.value = c.text;
      t.focus();
    } }, c.label));
  }
  note.hidden = !pick.missing;
  setText(note, pick.missing
    ? 'No prepared replies in her language (' + language + '): these are in ' + pick.language + '.'
    : '');
}

async function loadCanned() {
  try {
    cannedData = await api('/api/canned');
    renderCanned();
  } catch (e) { /* the reply box still works without them */ }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $('reply-text').value;
  if (!text.trim() || !currentAccount) return;
  const refusal = $('reply-refusal');
  refusal.hidden = true;
  $('send').disabled = true;
  try {
    const r = await api('/api/thread/' + encodeURIComponent(currentAccount) + '/reply', { text });
    if (r.sent) {
      $('reply-text').value = '';
      announce('Reply sent: stored at the gateway.');
    } else {
      refusal.textContent = r.sentence;
      refusal.hidden = false;
    }
  } catch (e) {
    refusal.textContent = e.message;
    refusal.hidden = false;
  } finally {
    $('send').disabled = false;
    refreshThread();
  }
}

async function toggleVerified() {
  if (!currentAccount) return;
  try {
    await api('/api/verify/' + encodeURIComponent(currentAccount),
      { verified: $('verified-toggle').checked, by: $('verified-toggle').dataset.by });
  } catch (e) { $('reply-refusal').textContent = e.message; $('reply-refusal').hidden = false; }
  refreshThread();
  refreshAlerts();
  refreshInbox();
}

let shownSafetyNumber = '';

async function showNewIdentity() {
  const error = $('identity-error');
  error.hidden = true;
  try {
    const r = await api('/api/identity/' + encodeURIComponent(currentAccount));
    shownSafetyNumber = r.new_safety_number;
    $('identity-number').textContent = r.new_safety_number;
    $('identity-number').hidden = false;
    $('identity-confirm').hidden = false;
    $('identity-verified').focus();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

async function acceptNewIdentity() {
  const error = $('identity-error');
  error.hidden = true;
  try {
    await api('/api/identity/' + encodeURIComponent(currentAccount) + '/accept',
      { safety_number: shownSafetyNumber, verified: $('identity-verified').checked });
    $('status').textContent = 'New safety number accepted: replies to her flow again.';
    $('reply-text').focus();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
  refreshThread();
  refreshAlerts();
}

// ---- Call-back tasks (she asked to be called, or her check-in plan calls for a call) ----

let callbackTask = null;  // the open task shown in her thread

// Parts of an instant in `zone` (the caseworker's own when undefined; her zone if the
// browser knows it, else the caseworker's).
function zoned(ms, options, zone) {
  try { return new Intl.DateTimeFormat([], { ...options, timeZone: zone }).format(new Date(ms)); } catch (e) {
    return new Intl.DateTimeFormat([], options).format(new Date(ms));
  }
}
const dayParts = { weekday: 'short', day: 'numeric', month: 'short' };
const timeParts = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

// "Tue 8 Dec, 14:00–17:00" in `zone`.
function windowText(w, zone) {
  return zoned(w.from, dayParts, zone) + ', ' + zoned(w.from, timeParts, zone) + '–' + zoned(w.to, timeParts, zone);
}

// "Tue 8 Dec, 14:00" in `zone`.
function instantText(ms, zone) {
  return zoned(ms, dayParts, zone) + ', ' + zoned(ms, timeParts, zone);
}

const callbackChannels = { app: 'her app', web: 'her web page', sms: 'SMS', checkin: 'her check-in plan' };

function renderCallback(task) {
  const box = $('callback');
  callbackTask = task && task.task_id ? task : null;
  box.hidden = !callbackTask;
  if (!callbackTask) { box.dataset.key = ''; return; }
  const key = JSON.stringify(task);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.setAttribute('data-task', task.task_id);
  const windows = Array.isArray(task.windows) ? task.windows : [];
  setText($('callback-title'), task.source === 'checkin' ? 'Check-in by phone call' : 'She asked to be called');
  setText($('callback-when'), 'When (your time): ' + (windows.map((w) => windowText(w)).join(' or ') || 'any time'));
  setText($('callback-hers'), task.time_zone
    ? 'Her time (' + task.time_zone + '): ' + windows.map((w) => windowText(w, task.time_zone)).join(' or ')
    : 'Her time zone is not recorded.');
  const quiet = $('callback-quiet');
  quiet.hidden = !task.next_allowed_from;
  setText(quiet, task.next_allowed_from
    ? 'Her quiet hours: call no earlier than ' + instantText(task.next_allowed_from) +
      (task.time_zone ? ' your time (' + instantText(task.next_allowed_from, task.time_zone) + ' her time)' : '') + '.'
    : '');
  const via = task.source === 'checkin' ? 'checkin' : task.channel;
  setText($('callback-from'), 'From ' + (callbackChannels[via] || via || 'unknown') +
    (task.requested_at ? ' · asked ' + when(task.requested_at) : '') +
    (task.state && task.state !== 'open' ? ' · ' + task.state.replace('_', ' ') : ''));
  const attempts = Array.isArray(task.attempts) ? task.attempts : [];
  $('callback-attempts').replaceChildren(...attempts.map((a) => el('li', {},
    (a.outcome === 'not_reached' ? 'Not reached' : String(a.outcome).replace('_', ' ')) + ' · ' + when(a.at) +
    (a.by ? ' · ' + (a.by === ownAccount ? 'by you' : 'by a colleague') : ''))));
  $('callback-attempts').hidden = attempts.length === 0;
}

let ownAccount = '';

function callbackError(text) {
  const box = $('callback-error');
  box.hidden = !text;
  setText(box, text || '');
}

async function callbackOutcome(outcome, windows) {
  if (!callbackTask) return;
  callbackError('');
  try {
    const body = { outcome };
    if (windows) body.windows = windows;
    await api('/api/callbacks/' + callbackTask.task_id + '/outcome', body);
    announce(outcome === 'done' ? 'Call-back recorded as done.'
      : (outcome === 'not_reached' ? 'Recorded: she was not reached.' : 'Call-back rescheduled.'));
    $('callback-new').hidden = true;
    $('callback-reschedule').setAttribute('aria-expanded', 'false');
  } catch (e) {
    if (!e.signedOut) callbackError(e.message);
  }
  refreshThread();
}

function rescheduleSubmit(event) {
  event.preventDefault();
  const day = $('callback-day').value;
  const from = new Date(day + 'T' + $('callback-start').value).getTime();
  const to = new Date(day + 'T' + $('callback-end').value).getTime();
  if (!(from > 0) || !(to > from)) {
    callbackError('The new time needs a day, a start and an end after the start.');
    return;
  }
  callbackOutcome('rescheduled', [{ from, to }]);
}

// Her number is shown only inside the open dialog: it is put there when the caseworker
// asks, with a reason, and removed from the page when the dialog closes by any means
// (the button, Escape, leaving her thread). Nothing else in the page ever holds it.
function forgetNumber() {
  $('reveal-number').textContent = '';
  $('reveal-shown').hidden = true;
  $('reveal-ask').hidden = false;
  $('reveal-error').hidden = true;
}

function openReveal() {
  if (!callbackTask) return;
  forgetNumber();
  const reason = callbackTask.source === 'checkin' ? 'checkin' : 'her_request';
  for (const r of document.querySelectorAll('input[name="reveal-reason"]')) r.checked = r.value === reason;
  $('reveal').showModal();
}

function closeReveal() {
  const dialog = $('reveal');
  if (dialog.open) dialog.close();
  forgetNumber();
}

async function revealNumber(event) {
  event.preventDefault();
  if (!callbackTask) return;
  const reason = document.querySelector('input[name="reveal-reason"]:checked')?.value || '';
  const error = $('reveal-error');
  error.hidden = true;
  try {
    const r = await api('/api/callbacks/' + callbackTask.task_id + '/reveal', { reason });
    if (!$('reveal').open) return;  // closed while asking: never shown
    $('reveal-number').textContent = r.number;
    $('reveal-ask').hidden = true;
    $('reveal-shown').hidden = false;
    $('reveal-number').focus();
  } catch (e) {
    if (e.signedOut) return;
    error.textContent = e.message;
    error.hidden = false;
  }
}

function route() {
  const m = location.hash.match(/^#\/thread\/(a_[A-Za-z0-9_-]{1,62})$/);
  const next = m ? m[1] : null;
  if (next !== currentAccount) {
    $('reply-refusal').hidden = true;
    $('reply-text').value = '';
    $('messages').replaceChildren();
    delete $('thread-title').dataset.key;
  }
  currentAccount = next;
  closeReveal();
  $('inbox-view').hidden = !!currentAccount;
  $('thread-view').hidden = !currentAccount;
  if (currentAccount) {
    refreshThread();
    loadCanned();  // the organisation may have changed them
    $('thread-title').setAttribute('tabindex', '-1');
    $('thread-title').focus();
  } else {
    refreshInbox();
  }
}

function tick() {
  refreshStatus();
  refreshAlerts();
  if (currentAccount) refreshThread(); else refreshInbox();
}

document.addEventListener('DOMContentLoaded', () => {
  $('reply-form').addEventListener('submit', sendReply);
  $('verified-toggle').addEventListener('change', toggleVerified);
  $('identity-show').addEventListener('click', showNewIdentity);
  $('identity-accept').addEventListener('click', acceptNewIdentity);
  $('reply-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('reply-form').requestSubmit();
  });
  $('callback-reveal').addEventListener('click', openReveal);
  $('callback-done').addEventListener('click', () => callbackOutcome('done'));
  $('callback-not-reached').addEventListener('click', () => callbackOutcome('not_reached'));
  $('callback-reschedule').addEventListener('click', () => {
    const form = $('callback-new');
    form.hidden = !form.hidden;
    $('callback-reschedule').setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) $('callback-day').focus();
  });
  $('callback-new').addEventListener('submit', rescheduleSubmit);
  $('reveal-ask').addEventListener('submit', revealNumber);
  $('reveal-cancel').addEventListener('click', closeReveal);
  $('reveal-close').addEventListener('click', () => { closeReveal(); $('callback-reveal').focus(); });
  $('reveal').addEventListener('close', forgetNumber);
  window.addEventListener('pagehide', closeReveal);
  window.addEventListener('hashchange', route);
  loadCanned();
  route();
  tick();
  setInterval(tick, 1500);
});
