// The Workflows page: runs newest first, filtered by status and definition, paged through
// ListWorkflows, and kept live by the server's SSE list stream (`GET /v1/workflows`): new runs
// appear and statuses change as they happen. Nothing here polls. The stream goes through the client,
// which adds a ticket for the signed-in token (an EventSource cannot send an authorization header).

import { h, clear, WORKFLOW_STATUSES, statusName, statusLabel, parseTime, formatTime, formatDuration, isClosed, workflowHref, definitionHref } from '../util.js';
import { statusBadge, errorBox, pageTitle, field } from '../ui.js';

/** Runs per page. */
export const PAGE_SIZE = 25;

/** "running" → "WORKFLOW_STATUS_RUNNING"; unknown names → "". */
export function statusFromName(name) {
  return WORKFLOW_STATUSES.find((status) => statusName(status) === name) || '';
}

/** The SSE list stream's URL for the filters. */
export function listStreamUrl(status, definition) {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (definition) params.set('definition', definition);
  const text = params.toString();
  return `/v1/workflows${text ? `?${text}` : ''}`;
}

function durationText(info, now) {
  const start = parseTime(info.startTime);
  if (start === null) return '—';
  const close = parseTime(info.closeTime);
  return formatDuration(((close ?? now) - start) / 1000);
}

/**
 * Renders the Workflows page into `ctx.root`.
 * @param {object} ctx the router's page context
 * @returns {Promise<() => void>} cleanup
 */
export async function renderWorkflows(ctx) {
  const { client, root, query, signal } = ctx;
  ctx.setTitle('Workflows');
  const state = {
    status: statusFromName(query.get('status') || ''),
    definition: query.get('definition') || '',
    tokens: [''], // page tokens: tokens[i] fetches page i
    page: 0,
    nextToken: '',
    rows: new Map(), // workflowId → WorkflowInfo
  };
  let subscription = null;
  let loadSeq = 0;

  const live = h('span', { id: 'live-status', class: 'live', 'aria-live': 'polite', dataset: { state: 'connecting' } }, 'Connecting…');
  const error = errorBox('workflows-error');

  const statusSelect = h('select', { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    WORKFLOW_STATUSES.map((status) => h('option', { value: status, selected: status === state.status }, statusLabel(status))));
  const definitionSelect = h('select', { id: 'filter-definition', name: 'definition' },
    h('option', { value: '' }, 'Any definition'),
    state.definition ? h('option', { value: state.definition, selected: true }, state.definition) : null);
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter runs', onsubmit: (e) => e.preventDefault() },
    field('Status', statusSelect), field('Definition', definitionSelect));

  const tbody = h('tbody', { id: 'workflows-body' });
  const tableEl = h('table', { id: 'workflows-table', class: 'runs' },
    h('caption', { class: 'visually-hidden' }, 'Workflow runs, newest first'),
    h('thead', null, h('tr', null, ['Workflow', 'Definition', 'Status', 'Started', 'Duration'].map((label) => h('th', { scope: 'col' }, label)))),
    tbody);
  const empty = h('p', { id: 'workflows-empty', class: 'empty', hidden: true },
    'No runs match. Start one from ', h('a', { href: '#/definitions' }, 'Definitions'), '.');
  const newer = h('button', { type: 'button', id: 'page-newer', onclick: () => goPage(state.page - 1) }, '← Newer');
  const older = h('button', { type: 'button', id: 'page-older', onclick: () => goPage(state.page + 1) }, 'Older →');
  const pageLabel = h('span', { id: 'page-label', class: 'pager-label' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of runs' }, newer, pageLabel, older);

  root.append(
    pageTitle('Workflows', live),
    filters, error.element,
    h('div', { class: 'table-wrap' }, tableEl), empty, pager);

  const renderRow = (info) => {
    const status = statusName(info.status);
    const def = info.definition || {};
    const start = parseTime(info.startTime);
    return h('tr', { dataset: { workflowId: info.workflowId, status } },
      h('td', null, h('a', { href: workflowHref(info.workflowId), class: 'mono' }, info.workflowId)),
      h('td', null, def.name ? h('a', { href: definitionHref(def.name, def.version) }, `${def.name}@${def.version || '?'}`) : '—'),
      h('td', null, statusBadge(info.status)),
      h('td', null, h('time', { datetime: info.startTime || '' }, formatTime(start))),
      h('td', { class: 'num', dataset: isClosed(info.status) ? {} : { since: String(start ?? '') } }, durationText(info, Date.now())));
  };

  const sorted = () => [...state.rows.values()].sort((a, b) => (parseTime(b.startTime) ?? 0) - (parseTime(a.startTime) ?? 0));

  const renderTable = (highlight) => {
    clear(tbody);
    for (const info of sorted()) {
      const row = renderRow(info);
      if (highlight === info.workflowId) row.classList.add('row-changed');
      tbody.append(row);
    }
    empty.hidden = state.rows.size > 0;
    newer.disabled = state.page === 0;
    older.disabled = !state.nextToken;
    pageLabel.textContent = `Page ${state.page + 1}`;
  };

  const upsert = (info) => {
    if (!info || !info.workflowId) return;
    const known = state.rows.has(info.workflowId);
    if (state.status && info.status !== state.status) {
      if (known) { state.rows.delete(info.workflowId); renderTable(); }
      return;
    }
    if (state.definition && info.definition?.name !== state.definition) return;
    if (!known && state.page !== 0) return; // new runs belong on the first page
    const previous = state.rows.get(info.workflowId);
    if (previous && Number(previous.lastEventId || 0) > Number(info.lastEventId || 0)) return; // stale
    state.rows.set(info.workflowId, info);
    if (!known && state.page === 0) {
      // Keep the first page at its size: drop the oldest rows beyond it.
      const rows = sorted();
      for (const extra of rows.slice(PAGE_SIZE * 2)) state.rows.delete(extra.workflowId);
    }
    const existing = tbody.querySelector(`tr[data-workflow-id="${CSS.escape(info.workflowId)}"]`);
    if (known && existing) {
      const row = renderRow(info);
      row.classList.add('row-changed');
      existing.replaceWith(row);
    } else {
      renderTable(info.workflowId);
    }
    if (previous && previous.status !== info.status) ctx.announce(`${info.workflowId} is now ${statusLabel(info.status)}`);
  };

  const load = async () => {
    const seq = ++loadSeq;
    error.clear();
    try {
      const request = { pageSize: PAGE_SIZE, pageToken: state.tokens[state.page] || '' };
      if (state.status) request.status = state.status;
      if (state.definition) request.definition = state.definition;
      const reply = await client.listWorkflows(request, { signal });
      if (seq !== loadSeq) return;
      state.rows = new Map((reply.workflows || []).map((info) => [info.workflowId, info]));
      state.nextToken = reply.nextPageToken || '';
      state.tokens[state.page + 1] = state.nextToken;
      renderTable();
    } catch (err) {
      if (!signal.aborted) error.show(err);
    }
  };

  const subscribe = () => {
    subscription?.close();
    const setLive = (key, text) => { live.dataset.state = key; live.textContent = text; };
    setLive('connecting', 'Connecting…');
    try {
      subscription = client.subscribeEvents(listStreamUrl(state.status, state.definition), (type, data) => {
        if (type === 'workflow') upsert(data);
      }, {
        types: ['workflow'],
        onOpen: () => setLive('live', 'Live'),
        onError: (_event, readyState) => setLive(readyState === 2 ? 'closed' : 'reconnecting', readyState === 2 ? 'Live updates stopped' : 'Reconnecting…'),
      });
    } catch (err) {
      setLive('closed', 'No live updates');
      error.show(err);
    }
  };

  const goPage = (page) => {
    if (page < 0 || (page > state.page && !state.nextToken)) return;
    state.page = page;
    load();
  };

  const applyFilters = () => {
    state.status = statusSelect.value;
    state.definition = definitionSelect.value;
    state.tokens = [''];
    state.page = 0;
    const params = new URLSearchParams();
    if (state.status) params.set('status', statusName(state.status));
    if (state.definition) params.set('definition', state.definition);
    const text = params.toString();
    // Replace the hash without a hashchange: the page stays, only its data changes.
    history.replaceState(null, '', `#/workflows${text ? `?${text}` : ''}`);
    load();
    subscribe();
  };
  statusSelect.addEventListener('change', applyFilters);
  definitionSelect.addEventListener('change', applyFilters);

  // A local clock for the durations of running rows (no requests).
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const cell of tbody.querySelectorAll('td[data-since]')) {
      const since = Number(cell.dataset.since);
      if (since) cell.textContent = formatDuration((now - since) / 1000);
    }
  }, 1000);

  client.listDefinitions({}, { signal }).then((reply) => {
    for (const def of reply.definitions || []) {
      if (def.name === state.definition) continue;
      definitionSelect.append(h('option', { value: def.name }, def.name));
    }
  }).catch(() => { /* the filter keeps "any" */ });

  await load();
  subscribe();
  return () => {
    clearInterval(ticker);
    subscription?.close();
  };
}
