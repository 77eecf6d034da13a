// The Circuit breakers page: every breaker with its state, a reset button per breaker and a
// refresh button. The list is live: the server pushes it again after every state change
// (GET /v1/circuit-breakers, Server-Sent Events); nothing polls.

import { h, parseTime, formatTime } from '../util.js';
import { statusBadge, errorBox, statusLine, pageTitle, replace } from '../ui.js';

/**
 * Renders the circuit breakers.
 * @param {object} ctx the router's page context
 */
export async function renderBreakers(ctx) {
  const { client, root, signal } = ctx;
  ctx.setTitle('Circuit breakers');
  const error = errorBox('breakers-error');
  const message = statusLine('breakers-message');
  const holder = h('div', { id: 'breakers-list' }, h('p', { class: 'loading' }, 'Loading…'));
  const refreshed = h('span', { id: 'breakers-refreshed', class: 'hint' });
  const refresh = h('button', { type: 'button', id: 'breakers-refresh', onclick: () => load() }, 'Refresh');

  const reset = async (key, button) => {
    error.clear();
    message.say('');
    button.disabled = true;
    try {
      const reply = await client.resetCircuitBreaker({ key }, { signal });
      message.say(`Breaker ${key} reset: ${(reply.breaker?.state || 'CIRCUIT_STATE_CLOSED').replace('CIRCUIT_STATE_', '').toLowerCase().replace('_', ' ')}.`);
      ctx.announce(`Breaker ${key} reset`);
      await load();
    } catch (err) {
      if (!signal.aborted) error.show(err);
      button.disabled = false;
    }
  };

  const show = (breakers) => {
    refreshed.textContent = `Read ${formatTime(Date.now())}`;
    if (!breakers.length) {
      replace(holder, h('p', { id: 'breakers-empty', class: 'empty' },
        'No circuit breakers yet: one appears when a step with a ', h('code', null, 'circuit_breaker'), ' key first runs.'));
      return;
    }
    replace(holder, h('div', { class: 'table-wrap' }, h('table', { id: 'breakers-table' },
      h('caption', { class: 'visually-hidden' }, 'Circuit breakers by key'),
      h('thead', null, h('tr', null, ['Key', 'State', 'Consecutive failures', 'Changed', 'Half-open at', ''].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', null, breakers.map((breaker) => {
        const button = h('button', { type: 'button', class: 'small', dataset: { reset: breaker.key }, 'aria-label': `Reset breaker ${breaker.key}` }, 'Reset');
        button.addEventListener('click', () => reset(breaker.key, button));
        return h('tr', { dataset: { key: breaker.key, state: (breaker.state || '').replace('CIRCUIT_STATE_', '').toLowerCase().replace('_', '-') } },
          h('th', { scope: 'row', class: 'mono' }, breaker.key),
          h('td', null, statusBadge(breaker.state || 'CIRCUIT_STATE_UNSPECIFIED')),
          h('td', { class: 'num' }, String(breaker.consecutiveFailures || 0)),
          h('td', null, formatTime(parseTime(breaker.changedTime))),
          h('td', null, breaker.halfOpenTime ? formatTime(parseTime(breaker.halfOpenTime)) : '—'),
          h('td', null, button));
      })))));
  };

  const load = async () => {
    error.clear();
    refresh.disabled = true;
    try {
      const reply = await client.listCircuitBreakers({}, { signal });
      show(reply.breakers || []);
    } catch (err) {
      if (!signal.aborted) { error.show(err); replace(holder); }
    } finally {
      refresh.disabled = false;
    }
  };

  // Live: every state change pushes the whole list again.
  try {
    const live = client.subscribeEvents('/v1/circuit-breakers', (type, data) => {
      if (type === 'breakers' && data) show(data.breakers || []);
    }, { types: ['breakers'] });
    signal.addEventListener('abort', () => live.close(), { once: true });
  } catch (err) {
    error.show(err);
  }

  root.append(pageTitle('Circuit breakers'),
    h('p', { class: 'meta' }, 'Breakers are shared by every workflow that names their key. ', refresh, ' ', refreshed),
    error.element, message.element, holder);
  await load();
}
