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
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || ('The console answered ' + r.status + '.'));
  return data;
}

// Initials and case code only; the opaque account id when the gateway gave neither.
function who(c) {
  const parts = [c.initials, c.case_code].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'Account ' + c.account;
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
  refused: 'not sent',
  failed: 'not sent — connection problem',
  not_delivered: 'Not delivered (SMS)',
};

// On a web-page thread the gateway's edge takes the reply into her page's history at once;
// she has not seen it until she opens the page.
function messageState(m, t) {
  if (m.state === 'delivered' && t.channel && t.channel.kind === 'web') return 'delivered to her web page';
  return stateText[m.state] || m.state;
}

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

async function refreshStatus() {
  try {
    const s = await api('/api/status');
    $('status').textContent = s.connection_problem || 'Connected to the gateway';
  } catch (e) {
    $('status').textContent = 'The console is not answering. Is ariadne-console still running?';
  }
}

let confirmingAlert = null;  // the alert id whose clearing waits for confirmation

const alertTitles = {
  duress: 'Urgent: danger signal',
  identity_changed: 'Check her identity',
  new_device: 'New device',
  unverified_channel: 'Unverified channel',
  unverified: 'Not verified yet',
  missed_checkin: 'Missed check-in',
  checkin_undeliverable: 'Check-in could not be sent',
  undecryptable: 'A message could not be read',
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
    el('button', { type: 'button', class: 'secondary', onclick: () => { confirmingAlert = null; refreshAlerts(); } }, 'Cancel'))];
}

async function refreshAlerts() {
  const box = $('alerts');
  let data;
  try { data = await api('/api/alerts'); } catch (e) { return; }
  // Keep the keyboard focus where it was across the refresh.
  const focused = document.activeElement && box.contains(document.activeElement)
    ? (document.activeElement.getAttribute('data-confirm') ? '[data-confirm="' + document.activeElement.getAttribute('data-confirm') + '"]'
      : document.activeElement.getAttribute('data-alert') ? '[data-alert="' + document.activeElement.getAttribute('data-alert') + '"]' : null)
    : null;
  box.replaceChildren();
  for (const a of data.alerts) {
    const w = a.who || { account: a.account };
    const whoText = (w.initials || w.case_code || w.account) ? who(w) : 'not linked to a case yet';
    const parts = [el('strong', {}, (alertTitles[a.kind] || 'Alert') + ' — ' + whoText),
      el('span', {}, a.sentence + ' ')];
    if (a.account) parts.push(el('a', { href: '#/thread/' + a.account }, 'Open conversation with ' + whoText));
    if (a.time_ms) parts.push(el('span', { class: 'meta' }, ' · raised ' + when(a.time_ms)));
    box.append(el('div', { class: 'alert' + (a.urgent ? ' urgent' : ''), role: a.urgent ? 'alert' : 'note',
      'data-kind': a.kind }, ...parts, ...alertControls(a)));
  }
  if (focused) box.querySelector(focused)?.focus();
}

async function refreshInbox() {
  let data;
  try { data = await api('/api/inbox'); } catch (e) { return; }
  const rows = $('inbox-rows');
  rows.replaceChildren();
  $('inbox-empty').hidden = data.conversations.length > 0;
  for (const c of data.conversations) {
    const link = el('a', { href: '#/thread/' + c.account }, who(c));
    const notes = [];
    if (!c.verified) notes.push(el('span', { class: 'label' }, ' not verified'));
    if (c.unverified) notes.push(' ', el('span', { class: 'label', 'data-note': 'unverified' }, 'unverified number'));
    if (c.status && c.status !== 'active') notes.push(' ', el('span', { class: 'label', 'data-note': 'status' }, 'case ' + c.status));
    const tr = el('tr', { 'data-account': c.account },
      el('td', {}, link, ...notes),
      el('td', { 'data-security': channelSecurity(c) }, channelText(c)),
      el('td', {}, when(c.last_activity_ms)),
      el('td', {}, c.unread ? el('span', { class: 'badge', 'aria-label': c.unread + ' unread' }, c.unread) : '0'),
      el('td', {}, c.checkin || 'not set up'));
    tr.addEventListener('click', (e) => { if (e.target.tagName !== 'A') location.hash = '#/thread/' + c.account; });
    rows.append(tr);
  }
}

function renderThread(t) {
  threadState = t;
  $('thread-title').textContent = who(t);
  $('thread-channel').replaceChildren('Channel: ' + channelText(t));
  $('thread-channel').setAttribute('data-security', channelSecurity(t));
  $('thread-unverified').hidden = !t.unverified;
  $('thread-unverified').textContent = t.unverified ? unverifiedText : '';
  $('thread-status').hidden = !statusText(t);
  $('thread-status').textContent = statusText(t);
  $('never-confirm').hidden = t.never_confirm_client !== true;
  $('handover').hidden = !t.handover_note;
  $('handover-text').textContent = t.handover_note || '';
  const throughGateway = !t.safety_number && !!t.channel && ['sms', 'web'].includes(t.channel.kind);
  $('safety-number').textContent = t.safety_number || (throughGateway
    ? 'None yet: only her Ariadne app has a safety number. Her SMS or web-page messages come through the gateway, which holds their keys: verify her with the agreed safe word.'
    : 'Not available yet: it appears after her first message.');
  $('safety-number').className = t.safety_number ? 'digits' : '';
  $('safety-state').textContent = t.identity_pending ? 'CHANGED: compare and accept the new one above'
    : (t.identity_changed ? 'CHANGED since you verified it' : (t.verified ? 'verified' : 'not verified'));
  $('identity').hidden = !t.identity_pending;
  if (!t.identity_pending) {
    $('identity-number').hidden = true;
    $('identity-confirm').hidden = true;
    $('identity-error').hidden = true;
  }
  const advice = $('verify-advice');
  advice.hidden = !!t.verified && !t.identity_changed;
  advice.textContent = t.identity_changed
    ? 'Her safety number changed (a new phone or a new recovery code). Verify her with the agreed safe word before sharing anything, then compare the new safety number with her in person.'
    : (throughGateway ? 'Not verified yet: verify her with the agreed safe word before sharing anything.'
      : 'Not verified yet: verify her with the agreed safe word before sharing anything, then compare the safety number with her.');
  const toggle = $('verified-toggle');
  toggle.checked = !!t.verified;
  toggle.disabled = !t.safety_number || !!t.identity_pending;
  const list = $('messages');
  const atBottom = list.children.length === 0 || window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  list.replaceChildren();
  for (const m of t.messages) {
    const meta = (m.outbound ? 'You' : 'Her') + ' · ' + when(m.time_ms) + ' · ' + messageState(m, t);
    const li = el('li', { class: (m.outbound ? 'out ' : 'in ') + m.state, 'data-state': m.state },
      el('span', { class: 'text' }, m.text), el('span', { class: 'meta' }, meta));
    if (m.refusal) li.append(el('span', { class: 'meta' }, m.refusal));
    list.append(li);
  }
  if (atBottom) list.lastElementChild?.scrollIntoView({ block: 'nearest' });
}

async function refreshThread() {
  if (!currentAccount) return;
  try { renderThread(await api('/api/thread/' + encodeURIComponent(currentAccount))); } catch (e) {
    $('thread-title').textContent = e.message;
  }
}

async function loadCanned() {
  const box = $('canned');
  try {
    const data = await api('/api/canned');
    box.replaceChildren();
    for (const c of data.replies) {
      box.append(el('button', { type: 'button', title: c.text, onclick: () => {
        const t = $('reply-text');
        t.value = c.text;
        t.focus();
      } }, c.label));
    }
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
    await api('/api/verify/' + encodeURIComponent(currentAccount), { verified: $('verified-toggle').checked });
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

function route() {
  const m = location.hash.match(/^#\/thread\/(a_[A-Za-z0-9_-]{1,62})$/);
  const next = m ? m[1] : null;
  if (next !== currentAccount) {
    $('reply-refusal').hidden = true;
    $('reply-text').value = '';
    $('messages').replaceChildren();
  }
  currentAccount = next;
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
  window.addEventListener('hashchange', route);
  loadCanned();
  route();
  tick();
  setInterval(tick, 1500);
});
