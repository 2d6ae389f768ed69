// The API key in this browser: kept in local storage, checked with POST /dashboard/session
// (which also sets the cookie that unlocks the page when DASHBOARD_PUBLIC is false).
// On the key-entry page it asks for the key and reloads into the dashboard; the
// dashboard's own script (app.js) uses window.costKey.
'use strict';

(function () {
  const STORAGE = 'cost-tracker.api-key';

  const costKey = {
    get() {
      try { return localStorage.getItem(STORAGE) || ''; } catch (_) { return ''; }
    },
    set(key) {
      try { localStorage.setItem(STORAGE, key); } catch (_) { /* private mode: this visit only */ }
    },
    // Checks a key with the server; true when it is the right one.
    async check(key) {
      const reply = await fetch('/dashboard/session', {
        method: 'POST',
        headers: { 'X-API-Key': key },
        credentials: 'same-origin',
      });
      return reply.status === 204;
    },
    async forget() {
      try { localStorage.removeItem(STORAGE); } catch (_) { /* nothing kept */ }
      await fetch('/dashboard/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
    },
    // Shows the key form; resolves with a key the server accepted.
    ask(message) {
      const panel = document.getElementById('key-panel');
      if (!panel.firstChild) buildForm(panel);
      const form = document.getElementById('key-form');
      const input = document.getElementById('key-input');
      const error = document.getElementById('key-error');
      panel.hidden = false;
      error.hidden = !message;
      error.textContent = message || '';
      input.focus();
      return new Promise((resolve) => {
        form.onsubmit = async (event) => {
          event.preventDefault();
          const key = input.value.trim();
          if (!key) return;
          let ok = false;
          try {
            ok = await costKey.check(key);
          } catch (_) {
            error.textContent = 'The server did not answer; try again.';
            error.hidden = false;
            return;
          }
          if (!ok) {
            error.textContent = 'That key was not accepted.';
            error.hidden = false;
            input.select();
            return;
          }
          costKey.set(key);
          input.value = '';
          panel.hidden = true;
          form.onsubmit = null;
          resolve(key);
        };
      });
    },
  };
  window.costKey = costKey;

  function buildForm(panel) {
    const node = (tag, attrs, text) => {
      const el = document.createElement(tag);
      for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, value);
      if (text) el.textContent = text;
      return el;
    };
    const intro = node('p', {}, 'The dashboard reads the cost API with your key (the one cost-tracker serve '
      + 'printed, or API_KEY). It is kept in this browser\'s local storage and sent only to this server, '
      + 'as the X-API-Key header.');
    const form = node('form', { id: 'key-form', autocomplete: 'off' });
    form.append(
      node('label', { for: 'key-input' }, 'API key'),
      node('input', {
        type: 'password', id: 'key-input', name: 'key', autocomplete: 'current-password', spellcheck: 'false', required: '',
      }),
      node('button', { type: 'submit' }, 'Open dashboard'),
    );
    panel.append(node('h2', {}, 'Enter your API key'), intro, form, node('p', { class: 'error', id: 'key-error', role: 'alert', hidden: '' }));
  }

  // The key-entry page (served while the dashboard is locked): a stored key that still
  // works unlocks the page at once; otherwise ask, then load the dashboard.
  async function keyPage() {
    const stored = costKey.get();
    if (stored && !sessionStorage.getItem('cost-tracker.retried')) {
      sessionStorage.setItem('cost-tracker.retried', '1');
      if (await costKey.check(stored).catch(() => false)) {
        window.location.replace('/dashboard');
        return;
      }
    }
    await costKey.ask(stored ? 'The stored key was not accepted.' : '');
    sessionStorage.removeItem('cost-tracker.retried');
    window.location.replace('/dashboard');
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (document.body.dataset.page === 'key') keyPage();
    else sessionStorage.removeItem('cost-tracker.retried');
  });
}());
