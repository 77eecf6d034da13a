// Sign-in for servers started with --auth-file: a control in the top bar and a form for a bearer
// token. The token lives in sessionStorage (key `baton.token`: this tab only, gone when it closes),
// never in localStorage, a cookie or a URL; the client sends it as `authorization: Bearer …` and the
// event streams get short-lived tickets instead (BatonClient#subscribeEvents). The form opens when
// the user asks, or when a call answers 401 (unauthenticated), with the server's message. A server
// without --auth-file never answers 401, so nothing asks for a token there.

import { h } from './util.js';

/** The sessionStorage key of the token. */
export const TOKEN_KEY = 'baton.token';

/** The stored token, '' when none (or when storage is unavailable). */
export function storedToken(storage = globalThis.sessionStorage) {
  try {
    return (storage && storage.getItem(TOKEN_KEY)) || '';
  } catch {
    return '';
  }
}

function store(storage, token) {
  try {
    if (token) storage.setItem(TOKEN_KEY, token);
    else storage.removeItem(TOKEN_KEY);
  } catch { /* private mode without storage: the token lasts until the page reloads */ }
}

/**
 * The sign-in control and form.
 * @param {{client: object, onChange: (signedIn: boolean) => void, announce?: (text: string) => void,
 *   storage?: Storage}} options `onChange` runs after signing in or out (the app re-renders the page)
 * @returns {{control: HTMLElement, panel: HTMLElement, prompt: (error?: {message?: string}) => void,
 *   signedIn: () => boolean}}
 */
export function authControl({ client, onChange, announce = () => {}, storage = globalThis.sessionStorage }) {
  const state = h('span', { id: 'auth-state', class: 'auth-state', hidden: true }, 'Signed in');
  const toggle = h('button', {
    type: 'button', id: 'sign-in-toggle', class: 'small', 'aria-expanded': 'false', 'aria-controls': 'sign-in-form',
  }, 'Sign in');
  const signOut = h('button', { type: 'button', id: 'sign-out', class: 'small', hidden: true }, 'Sign out');
  const control = h('div', { id: 'auth', class: 'auth' }, state, toggle, signOut);

  // No `name` on the input and no action on the form: even a submit that escaped preventDefault
  // would put nothing in the URL.
  const input = h('input', {
    id: 'sign-in-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
    'aria-describedby': 'sign-in-hint',
  });
  const message = h('p', { id: 'sign-in-message', class: 'message message-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'sign-in-submit', class: 'primary' }, 'Sign in');
  const cancel = h('button', { type: 'button', id: 'sign-in-cancel' }, 'Close');
  const panel = h('form', { id: 'sign-in-form', class: 'sign-in', hidden: true, 'aria-labelledby': 'sign-in-heading', novalidate: true },
    h('h2', { id: 'sign-in-heading', class: 'visually-hidden' }, 'Sign in'),
    message,
    h('div', { class: 'sign-in-row' },
      h('div', { class: 'field' },
        h('label', { for: 'sign-in-token' }, 'Token'),
        input,
        h('small', { id: 'sign-in-hint', class: 'hint' }, 'An API token of this server (reader, operator or admin). Kept for this tab only.')),
      h('div', { class: 'buttons' }, submit, cancel)));

  const signedIn = () => !!client.token;

  const showState = () => {
    const inside = signedIn();
    state.hidden = !inside;
    signOut.hidden = !inside;
    toggle.hidden = inside;
    control.dataset.state = inside ? 'signed-in' : 'signed-out';
  };

  const open = (text) => {
    message.textContent = text || '';
    message.hidden = !text;
    panel.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
  };
  const hide = () => {
    panel.hidden = true;
    message.hidden = true;
    message.textContent = '';
    toggle.setAttribute('aria-expanded', 'false');
  };

  toggle.addEventListener('click', () => {
    if (panel.hidden) {
      open('');
      input.focus();
    } else {
      hide();
    }
  });
  cancel.addEventListener('click', () => { hide(); toggle.focus(); });
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { hide(); toggle.focus(); }
  });

  panel.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    input.value = '';
    if (!token) {
      open('Enter a token.');
      input.focus();
      return;
    }
    store(storage, token);
    client.setToken(token);
    hide();
    showState();
    announce('Signed in');
    onChange(true);
  });

  signOut.addEventListener('click', () => {
    store(storage, '');
    client.setToken('');
    input.value = '';
    hide();
    showState();
    announce('Signed out');
    toggle.focus();
    onChange(false);
  });

  showState();
  return {
    control,
    panel,
    signedIn,
    /** Opens the form with the server's message (a call answered 401). */
    prompt(error) {
      const text = error && error.message ? error.message : 'This server needs a token.';
      const wasHidden = panel.hidden;
      open(signedIn() ? `The token was refused: ${text}` : text);
      // Focus the token field when the form appears, unless the user is typing somewhere else.
      const active = document.activeElement;
      const busy = active && active !== document.body && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active !== input;
      if (wasHidden && !busy) input.focus();
    },
  };
}
