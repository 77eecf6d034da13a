// The Baton web UI: a hash router over four pages. Each page gets a context with the API client,
// its root element, route parameters, and an AbortSignal that fires when the user navigates away
// (every stream and subscription a page opens is tied to it, so nothing outlives its page).
//
// Routes: #/workflows, #/workflows/<id>, #/definitions, #/definitions/<name>, #/breakers.
//
// Servers with --auth-file: the top bar's sign-in (auth.js) holds a token in sessionStorage; every
// call sends it, a 401 anywhere opens the sign-in form with the server's message, and signing in or
// out renders the page again with the new credentials.

import { BatonClient } from '/baton.js';
import { h, clear } from './util.js';
import { authControl, storedToken } from './auth.js';
import { renderWorkflows } from './pages/workflows.js';
import { renderWorkflow } from './pages/workflow.js';
import { renderDefinitions, renderDefinition } from './pages/definitions.js';
import { renderBreakers } from './pages/breakers.js';

/** Unary calls time out after this long (streams do not). */
const UNARY_TIMEOUT_MS = 15000;

let auth = null; // the sign-in control, once the page is up

const client = new BatonClient('', {
  timeoutMs: UNARY_TIMEOUT_MS,
  token: storedToken(),
  onUnauthenticated: (error) => auth?.prompt(error),
});

const routes = [
  { pattern: /^\/workflows\/?$/, nav: 'workflows', render: renderWorkflows },
  { pattern: /^\/workflows\/([^/]+)$/, nav: 'workflows', render: renderWorkflow },
  { pattern: /^\/definitions\/?$/, nav: 'definitions', render: renderDefinitions },
  { pattern: /^\/definitions\/([^/]+)$/, nav: 'definitions', render: renderDefinition },
  { pattern: /^\/breakers\/?$/, nav: 'breakers', render: renderBreakers },
];

/**
 * Splits the location hash into a path and query: "#/workflows?status=X" → {path: "/workflows", query}.
 * @param {string} hash
 * @returns {{path: string, query: URLSearchParams}}
 */
export function parseHash(hash) {
  const text = (hash || '').replace(/^#/, '');
  const q = text.indexOf('?');
  const path = (q < 0 ? text : text.slice(0, q)) || '/';
  return { path: path.startsWith('/') ? path : `/${path}`, query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) };
}

/** Says something to screen readers through the page's live region. */
function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // Set in a later task, so that repeating the same text is announced again (no request involved).
  setTimeout(() => { region.textContent = text; }, 50);
}

let current = null; // {controller, cleanup}

async function route() {
  const main = document.getElementById('main');
  const { path, query } = parseHash(location.hash);
  if (path === '/') {
    location.replace('#/workflows');
    return;
  }
  if (current) {
    current.controller.abort();
    try { current.cleanup?.(); } catch (error) { console.error(error); }
    current = null;
  }
  const controller = new AbortController();
  const entry = { controller, cleanup: null };
  current = entry;
  clear(main);

  let match = null;
  const found = routes.find((candidate) => (match = candidate.pattern.exec(path)) !== null);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (found && link.dataset.nav === found.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!found) {
    document.title = 'Not found · Baton';
    main.append(h('h1', { tabindex: -1 }, 'Page not found'),
      h('p', null, 'Nothing lives at ', h('code', null, location.hash), '. ', h('a', { href: '#/workflows' }, 'Go to the workflows.')));
    focusHeading(main);
    return;
  }
  const params = match.slice(1).map((part) => {
    try { return decodeURIComponent(part); } catch { return part; }
  });
  const context = {
    client, root: main, params, query, signal: controller.signal, announce,
    navigate: (hash) => { location.hash = hash; },
    setTitle: (title) => { document.title = `${title} · Baton`; },
  };
  try {
    const cleanup = await found.render(context);
    if (controller.signal.aborted) cleanup?.();
    else entry.cleanup = cleanup || null;
  } catch (error) {
    if (controller.signal.aborted) return;
    console.error(error);
    main.append(h('div', { class: 'message message-error', role: 'alert' }, `This page failed to load: ${error.message || error}`));
  }
  if (!controller.signal.aborted) focusHeading(main);
}

let firstRoute = true;
function focusHeading(main) {
  // Move focus to the new page's heading after a navigation (not on the first load).
  if (firstRoute) { firstRoute = false; return; }
  const heading = main.querySelector('h1');
  if (heading) heading.focus({ preventScroll: false });
}

let infoSeq = 0;
async function showServerInfo() {
  const target = document.getElementById('server-info');
  const seq = ++infoSeq;
  try {
    const info = await client.getServerInfo({});
    if (seq !== infoSeq) return;
    target.textContent = `Baton ${info.version || ''} · durability ${info.durability || 'unknown'}`;
    target.title = info.storePath ? `Store: ${info.storePath}` : '';
    target.dataset.version = info.version || '';
    delete target.dataset.info;
  } catch (error) {
    if (seq !== infoSeq) return;
    delete target.dataset.version;
    target.title = '';
    if (error.code === 'permission_denied' || error.code === 'unauthenticated') {
      // GetServerInfo is for admin tokens: everyone else works without it.
      target.textContent = 'Baton';
      target.title = error.code === 'permission_denied' ? 'Server details need an admin token.' : '';
      target.dataset.info = error.code;
    } else {
      target.textContent = `Baton · server unreachable (${error.code || 'error'})`;
    }
  }
}

function setUpAuth() {
  const header = document.querySelector('.site-header');
  if (!header) return;
  auth = authControl({
    client,
    announce,
    onChange: () => {
      // The page's calls and streams start again with the new credentials.
      route();
      showServerInfo();
    },
  });
  header.append(auth.control, auth.panel);
}

function start() {
  setUpAuth();
  window.addEventListener('hashchange', route);
  route();
  showServerInfo();
}

// Module scripts run once the document is parsed; wait only if this one was loaded otherwise.
if (document.readyState === 'loading') window.addEventListener('DOMContentLoaded', start, { once: true });
else start();
