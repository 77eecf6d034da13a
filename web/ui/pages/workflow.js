// The page of one run. Two streams push everything: StreamProgress drives the progress bar
// (percentage, phase, ETA) and, on each change of the steps' states, one DescribeWorkflow
// (coalesced: at most one in flight) that redraws the DAG, the steps and the data; WatchHistory
// feeds the history list, the timeline and the compensation marks. No timer makes a request: a
// local one-second clock only advances the elapsed time and the open bars of the timeline, and
// a broken stream reconnects after a backoff, resuming from the last event id it saw.

import { h, clear, statusName, statusLabel, parseDuration, formatDuration, parseTime, formatTime, isClosed, int64, definitionHref } from '../util.js';
import { statusBadge, errorBox, pageTitle, replace } from '../ui.js';
import { renderDag } from '../dag.js';
import { buildTimeline, renderTimeline, compensationStates } from '../timeline.js';
import { actionsPanel, stepsTable, historyItem, dataBlocks, statusLegend, timelineLegend } from './workflow_parts.js';

/** At most this many history items stay in the list (the timeline uses every event). */
const MAX_HISTORY_ITEMS = 5000;
/** Runs with more steps than this get the steps table without the graph. */
const MAX_GRAPH_STEPS = 400;

/** The backoff before reconnecting a broken stream, for the n-th retry (ms). */
export function reconnectDelay(retry) {
  return Math.min(15000, 500 * 2 ** Math.max(0, retry - 1));
}

/** What in a Progress message warrants a new description: the status and every step set. */
export function progressSignature(progress) {
  return JSON.stringify([
    progress.status || '', progress.runningSteps || [], progress.completedSteps || [], progress.failedSteps || [],
    progress.skippedSteps || [], progress.attempts || {},
  ]);
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * Renders a run's page into `ctx.root`.
 * @param {object} ctx the router's page context; `ctx.params[0]` is the workflow id
 * @returns {Promise<() => void>} cleanup
 */
export async function renderWorkflow(ctx) {
  const { client, root, signal, announce } = ctx;
  const workflowId = ctx.params[0];
  ctx.setTitle(`Workflow ${workflowId}`);

  const state = {
    description: null,
    progress: null,
    progressAt: 0, // when the last progress arrived (for the local clock)
    progressCount: 0,
    signature: null,
    events: [],
    compensations: new Map(),
    lastHistoryId: 0,
    lastProgressId: 0,
  };

  // ---- layout ----
  const statusHolder = h('span', { id: 'wf-status', class: 'wf-status', dataset: { status: 'unspecified' } });
  const meta = h('p', { id: 'wf-meta', class: 'meta' });
  const pageError = errorBox('workflow-error');
  const streamNote = h('p', { id: 'stream-note', class: 'hint', 'aria-live': 'polite' });

  const bar = h('div', { class: 'progress-fill', style: 'width: 0%' });
  const barTrack = h('div', {
    id: 'progress-bar', class: 'progress-track', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': 0, 'aria-valuetext': '0%', 'aria-label': 'Workflow progress',
  }, bar);
  const percentText = h('span', { id: 'progress-percent', class: 'progress-percent' }, '0%');
  const phaseText = h('span', { id: 'progress-phase' }, '—');
  const etaText = h('span', { id: 'progress-eta' }, '—');
  const elapsedText = h('span', { id: 'progress-elapsed' }, '—');
  const runningText = h('span', { id: 'progress-running' }, '—');
  const summary = h('p', { id: 'progress-summary', class: 'visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const progressSection = h('section', { id: 'progress', class: 'card', 'aria-labelledby': 'progress-heading', dataset: { updates: '0' } },
    h('h2', { id: 'progress-heading' }, 'Progress'),
    h('div', { class: 'progress-row' }, barTrack, percentText),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, 'Phase'), h('dd', null, phaseText)),
      h('div', null, h('dt', null, 'ETA'), h('dd', null, etaText)),
      h('div', null, h('dt', null, 'Elapsed'), h('dd', null, elapsedText)),
      h('div', null, h('dt', null, 'Running'), h('dd', null, runningText))),
    summary, streamNote);

  const actions = actionsPanel({ client, workflowId, announce, signal });
  const dagHolder = h('div', { id: 'dag', class: 'scroll-x', tabindex: 0, 'aria-label': 'Step graph (scrolls sideways)' });
  const stepsHolder = h('div', { id: 'steps' });
  const timelineHolder = h('div', { id: 'timeline', class: 'scroll-x' });
  const dataHolder = h('div', { id: 'data', class: 'data-grid' });
  const historyCount = h('span', { id: 'history-count', class: 'count' }, '0 events');
  const historyList = h('ol', { id: 'history-list', class: 'history', 'aria-label': 'History events, oldest first' });

  root.append(
    pageTitle(workflowId, statusHolder),
    meta, pageError.element,
    progressSection, actions.element,
    h('section', { class: 'card', 'aria-labelledby': 'dag-heading' },
      h('h2', { id: 'dag-heading' }, 'Steps'), statusLegend(), dagHolder, stepsHolder),
    h('section', { class: 'card', 'aria-labelledby': 'timeline-heading' },
      h('h2', { id: 'timeline-heading' }, 'Timeline'), timelineLegend(), timelineHolder),
    h('section', { class: 'card', 'aria-labelledby': 'data-heading' },
      h('h2', { id: 'data-heading' }, 'Data'), dataHolder),
    h('section', { class: 'card', 'aria-labelledby': 'history-heading' },
      h('h2', { id: 'history-heading' }, 'History ', historyCount), historyList));

  // ---- rendering ----
  const setStatus = (status) => {
    const name = statusName(status);
    if (statusHolder.dataset.status === name) return;
    statusHolder.dataset.status = name;
    replace(statusHolder, statusBadge(status));
  };

  const renderDagNow = () => {
    const steps = state.description?.steps || [];
    if (steps.length > MAX_GRAPH_STEPS) {
      replace(dagHolder, h('p', { class: 'hint' }, `The graph of ${steps.length} steps is left out; the table below lists them.`));
      return;
    }
    replace(dagHolder, steps.length ? renderDag(steps, {
      compensations: state.compensations,
      onSelect: (name) => {
        const row = document.getElementById(`step-row-${name}`);
        if (row) { row.scrollIntoView({ block: 'center' }); row.focus(); }
      },
    }) : h('p', { class: 'hint' }, 'No steps.'));
  };

  const renderTimelineNow = () => {
    const steps = state.description?.steps || [];
    const timeline = buildTimeline(state.events, {
      kinds: new Map(steps.map((step) => [step.name, step.kind])), order: steps.map((step) => step.name),
    });
    if (timeline.start === null) { replace(timelineHolder, h('p', { class: 'hint' }, 'No events yet.')); return; }
    replace(timelineHolder, renderTimeline(timeline, { width: timelineHolder.clientWidth || 900, now: Date.now() }));
  };

  const applyDescription = (workflow) => {
    const wasClosed = isClosed(state.description?.info?.status);
    state.description = workflow;
    const info = workflow.info || {};
    setStatus(info.status);
    const def = info.definition || {};
    const start = parseTime(info.startTime);
    const close = parseTime(info.closeTime);
    replace(meta,
      def.name ? h('a', { href: definitionHref(def.name, def.version) }, `${def.name}@${def.version || '?'}`) : 'unknown definition',
      ` · started ${formatTime(start)}`,
      close !== null ? ` · closed ${formatTime(close)} after ${formatDuration((close - start) / 1000)}` : '',
      ` · ${info.lastEventId || 0} events`,
      info.traceId ? h('span', { class: 'trace', title: 'The run\'s trace id (W3C Trace Context): search for it in your tracing backend' },
        ' · trace ', h('code', { 'data-trace-id': info.traceId }, info.traceId)) : '');
    renderDagNow();
    replace(stepsHolder, stepsTable(workflow.steps || []));
    replace(dataHolder, dataBlocks(workflow));
    actions.update(workflow);
    renderTimelineNow();
    if (!wasClosed && isClosed(info.status)) announce(`The run is ${statusLabel(info.status)}.`);
  };

  let describing = false;
  let describeAgain = false;
  const describe = async () => {
    if (describing) { describeAgain = true; return; }
    describing = true;
    progressSection.dataset.describing = 'true';
    try {
      do {
        describeAgain = false;
        const reply = await client.describeWorkflow({ workflowId }, { signal });
        if (signal.aborted) return;
        if (reply.workflow) applyDescription(reply.workflow);
      } while (describeAgain && !signal.aborted);
    } catch (err) {
      if (!signal.aborted) pageError.show(err);
    } finally {
      describing = false;
      progressSection.dataset.describing = 'false';
    }
  };

  const showClock = () => {
    const p = state.progress;
    if (!p) return;
    const elapsed = parseDuration(p.elapsed);
    const eta = parseDuration(p.eta);
    const open = !isClosed(p.status);
    const drift = open ? (Date.now() - state.progressAt) / 1000 : 0;
    elapsedText.textContent = elapsed === null ? '—' : formatDuration(elapsed + drift);
    const waits = Object.values(p.waitingForSignals || {});
    let etaLabel;
    if (!open) etaLabel = 'done';
    else if (eta !== null) {
      etaLabel = formatDuration(Math.max(0, eta - drift)) + (p.etaUntilSignal ? ` until signal ${p.etaUntilSignal}` : '');
    } else if (waits.length > 0) etaLabel = `waiting for signal ${[...new Set(waits)].sort().join(', ')}`;
    else etaLabel = 'unknown';
    etaText.textContent = etaLabel;
  };

  const applyProgress = (p) => {
    const first = state.progress === null;
    const previous = state.progress;
    state.progress = p;
    state.progressAt = Date.now();
    state.progressCount += 1;
    progressSection.dataset.updates = String(state.progressCount);
    progressSection.dataset.eventId = String(p.eventId || '0');
    state.lastProgressId = Math.max(state.lastProgressId, int64(p.eventId));
    const pct = Math.max(0, Math.min(100, Math.round(Number(p.percentage || 0))));
    bar.style.width = `${pct}%`;
    barTrack.setAttribute('aria-valuenow', String(pct));
    barTrack.setAttribute('aria-valuetext', `${pct}%${p.currentPhase ? `, phase ${p.currentPhase}` : ''}`);
    barTrack.dataset.status = statusName(p.status);
    percentText.textContent = `${pct}%`;
    phaseText.textContent = p.currentPhase || (isClosed(p.status) ? statusLabel(p.status) : '—');
    runningText.textContent = (p.runningSteps || []).join(', ') || '—';
    showClock();
    setStatus(p.status);
    if (first || previous.currentPhase !== p.currentPhase || previous.status !== p.status) {
      summary.textContent = `${statusLabel(p.status)}, ${pct}%${p.currentPhase ? `, phase ${p.currentPhase}` : ''}`;
    }
    const signature = progressSignature(p);
    const changed = signature !== state.signature;
    state.signature = signature;
    // The page described the run just before streaming, so the first snapshot only needs a new
    // description when the run moved on in between.
    if (changed && (!first || p.status !== state.description?.info?.status)) describe();
  };

  let historyFrame = null;
  const scheduleHistoryRender = () => {
    if (historyFrame !== null) return;
    const run = () => {
      historyFrame = null;
      const states = compensationStates(state.events);
      const changed = JSON.stringify([...states]) !== JSON.stringify([...state.compensations]);
      state.compensations = states;
      if (changed) renderDagNow();
      renderTimelineNow();
      historyCount.textContent = `${state.events.length} event${state.events.length === 1 ? '' : 's'}`;
    };
    historyFrame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : setTimeout(run, 16);
  };

  const applyEvent = (event) => {
    const id = int64(event.eventId);
    if (id && id <= state.lastHistoryId) return; // a repeat after a reconnect
    state.lastHistoryId = Math.max(state.lastHistoryId, id);
    state.events.push(event);
    historyList.append(historyItem(event));
    while (historyList.childElementCount > MAX_HISTORY_ITEMS) historyList.firstElementChild.remove();
    scheduleHistoryRender();
  };

  // ---- streams ----
  const follow = async (name, open, onMessage) => {
    for (let retry = 0; !signal.aborted;) {
      try {
        for await (const message of open()) {
          retry = 0;
          streamNote.textContent = '';
          onMessage(message);
        }
        return true; // the run closed and the stream ended with OK
      } catch (err) {
        if (signal.aborted) return false;
        if (['not_found', 'invalid_argument', 'permission_denied', 'unauthenticated', 'unimplemented'].includes(err.code)) {
          pageError.show(err);
          return false;
        }
        retry += 1;
        const delay = reconnectDelay(retry);
        streamNote.textContent = `Live ${name} interrupted (${err.message}); reconnecting in ${formatDuration(delay / 1000)}…`;
        await sleep(delay, signal);
      }
    }
    return false;
  };

  const progressStream = () => {
    const request = { workflowId };
    if (state.lastProgressId > 0) request.afterEventId = String(state.lastProgressId);
    return client.streamProgress(request, { signal });
  };
  const historyStream = () => {
    const request = { workflowId };
    if (state.lastHistoryId > 0) request.afterEventId = String(state.lastHistoryId);
    return client.watchHistory(request, { signal });
  };

  // ---- start ----
  try {
    const reply = await client.describeWorkflow({ workflowId }, { signal });
    applyDescription(reply.workflow || {});
  } catch (err) {
    if (signal.aborted) return () => {};
    clear(root);
    root.append(pageTitle(workflowId),
      h('div', { id: 'workflow-error', class: 'message message-error', role: 'alert' },
        err.code === 'not_found' ? `There is no run with id ${workflowId}.` : `Cannot load this run: ${err.message} (${err.code})`),
      h('p', null, h('a', { href: '#/workflows' }, 'Back to the workflows')));
    return () => {};
  }

  follow('progress', progressStream, applyProgress).then((ended) => {
    if (ended && !isClosed(state.description?.info?.status)) describe();
    if (ended) streamNote.textContent = '';
  });
  follow('history', historyStream, applyEvent);

  const ticker = setInterval(() => {
    if (!state.progress || isClosed(state.progress.status)) return;
    showClock();
    if (state.events.length < 2000) renderTimelineNow();
  }, 1000);
  const onResize = () => scheduleHistoryRender();
  window.addEventListener('resize', onResize);

  return () => {
    clearInterval(ticker);
    window.removeEventListener('resize', onResize);
    if (historyFrame !== null && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(historyFrame);
  };
}
