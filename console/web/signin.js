// The console's sign-in page: the passphrase goes to the console on this computer only
// (127.0.0.1), which opens its keys with it and starts a session.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('signin-form');
  const field = document.getElementById('passphrase');
  const error = document.getElementById('signin-error');
  const button = document.getElementById('signin');
  if (location.hash === '#link-used') {
    document.getElementById('signin-why').textContent =
      'That link works only once and was already used. Sign in with the passphrase of this console\'s keys instead.';
  }
  field.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    field.removeAttribute('aria-invalid');
    button.disabled = true;
    button.textContent = 'Opening the keys…';
    try {
      const r = await fetch('/api/signin', {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ passphrase: field.value }),
      });
      if (r.ok) {
        field.value = '';
        location.replace('/');
        return;
      }
      const data = await r.json().catch(() => ({}));
      error.textContent = data.error || ('The console answered ' + r.status + '.');
    } catch (e) {
      error.textContent = 'The console is not answering. Is ariadne-console still running?';
    }
    error.hidden = false;
    field.setAttribute('aria-invalid', 'true');
    field.select();
    button.disabled = false;
    button.textContent = 'Sign in';
  });
});
