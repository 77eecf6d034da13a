// The run's timeline (a Gantt chart) built from its history: one row per step with its attempts,
// waits (signals, sleeps, retry backoffs) and compensations, plus markers for signals, cancel
// requests and the saga. `buildTimeline`, `compensationStates` and `summarizeEvent` are pure
// (unit-tested under Node); `renderTimeline` needs a DOM.

import { s, parseTime, formatDuration, formatTime, int64, statusName } from './util.js';

/** The attributes of a history event: the field named after its type ("StepCompleted" → stepCompleted). */
export function eventAttributes(event) {
  const type = event?.type || '';
  return event?.[type.charAt(0).toLowerCase() + type.slice(1)] || {};
}

const CLOSING = new Set(['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'WorkflowTerminated',
  'WorkflowCompensated', 'WorkflowCompensationFailed']);

/**
 * Builds the timeline of a run from its history events (in order).
 *
 * Span kinds: "attempt" (an activity attempt, scheduled → completed/failed/timed out), "wait" (a
 * wait_for_signal or sleep step, or a sleep timer), "backoff" (a retry backoff timer) and
 * "compensation" (an attempt of a step's compensation). A span still open has `end: null`; its
 * `result` says how a closed one ended: completed, failed, timed-out, skipped, interrupted.
 *
 * @param {object[]} events HistoryEvent messages (JSON form)
 * @param {{kinds?: Map<string, string>|object, order?: string[]}} [options] `kinds`: step → kind
 *   ("activity", "wait_for_signal", "sleep"); `order`: row order (definition order), others follow
 * @returns {{start: number|null, end: number|null, closed: boolean, rows: Array<{step: string,
 *   spans: object[]}>, markers: Array<{time: number, label: string, kind: string}>}}
 */
export function buildTimeline(events, options = {}) {
  const kinds = options.kinds instanceof Map ? options.kinds : new Map(Object.entries(options.kinds || {}));
  const rows = new Map();
  const markers = [];
  const open = new Map(); // "step" or "comp:step" or "timer:id" → span
  let start = null;
  let end = null;
  let last = null;
  let closed = false;

  const row = (step) => {
    if (!rows.has(step)) rows.set(step, { step, spans: [] });
    return rows.get(step);
  };
  const openSpan = (key, step, span) => {
    const existing = open.get(key);
    if (existing) { existing.end = span.start; existing.result = existing.result || 'interrupted'; }
    const full = { step, end: null, result: null, ...span };
    row(step).spans.push(full);
    open.set(key, full);
    return full;
  };
  const closeSpan = (key, time, result, fallback) => {
    let span = open.get(key);
    if (!span && fallback) span = openSpan(key, fallback.step, { kind: fallback.kind, start: time, attempt: fallback.attempt });
    if (!span) return null;
    span.end = time;
    span.result = result;
    open.delete(key);
    return span;
  };
  const stepKind = (step) => (kinds.get(step) === 'wait_for_signal' || kinds.get(step) === 'sleep' ? 'wait' : 'attempt');

  for (const event of events || []) {
    const time = parseTime(event.time);
    if (time === null) continue;
    if (start === null) start = time;
    last = time;
    const a = eventAttributes(event);
    const attempt = a.attempt || 1;
    switch (event.type) {
      case 'StepScheduled':
        openSpan(a.step, a.step, { kind: stepKind(a.step), start: time, attempt });
        break;
      case 'StepStarted': {
        const span = open.get(a.step);
        if (span) span.startedAt = time;
        break;
      }
      case 'StepCompleted':
        closeSpan(a.step, time, 'completed', { step: a.step, kind: stepKind(a.step), attempt });
        break;
      case 'StepFailed': {
        const span = closeSpan(a.step, time, 'failed', { step: a.step, kind: stepKind(a.step), attempt });
        if (span && a.failure) span.failure = a.failure;
        break;
      }
      case 'StepTimedOut': {
        const span = closeSpan(a.step, time, 'timed-out', { step: a.step, kind: stepKind(a.step), attempt });
        if (span) span.timeout = statusName(a.timeout);
        break;
      }
      case 'SignalWaitTimedOut':
        closeSpan(a.step, time, 'timed-out', { step: a.step, kind: 'wait', attempt: 1 });
        break;
      case 'StepSkipped':
        row(a.step).spans.push({ step: a.step, kind: 'skipped', start: time, end: time, result: 'skipped' });
        break;
      case 'TimerStarted': {
        const purpose = a.purpose || '';
        if (purpose === 'TIMER_PURPOSE_RETRY_BACKOFF') {
          openSpan(`timer:${a.timerId}`, a.step, { kind: 'backoff', start: time, attempt, planned: parseTime(a.fireAt) });
        } else if ((purpose === 'TIMER_PURPOSE_SLEEP' || purpose === 'TIMER_PURPOSE_SIGNAL_TIMEOUT') && !open.has(a.step)) {
          openSpan(a.step, a.step, { kind: 'wait', start: time, attempt });
        }
        break;
      }
      case 'TimerFired':
        closeSpan(`timer:${a.timerId}`, time, 'completed');
        break;
      case 'CompensationScheduled':
        openSpan(`comp:${a.step}`, a.step, { kind: 'compensation', start: time, attempt });
        break;
      case 'CompensationAttemptFailed': {
        const span = closeSpan(`comp:${a.step}`, time, 'failed', { step: a.step, kind: 'compensation', attempt });
        if (span && a.failure) span.failure = a.failure;
        break;
      }
      case 'CompensationCompleted':
        closeSpan(`comp:${a.step}`, time, 'completed', { step: a.step, kind: 'compensation', attempt: 1 });
        break;
      case 'CompensationFailed': {
        const span = closeSpan(`comp:${a.step}`, time, 'failed', { step: a.step, kind: 'compensation', attempt: 1 });
        if (span && a.failure) span.failure = a.failure;
        break;
      }
      case 'SignalReceived':
        markers.push({ time, kind: 'signal', label: `signal ${a.name || ''}`.trim() });
        break;
      case 'CancelRequested':
        markers.push({ time, kind: 'cancel', label: 'cancel requested' });
        break;
      case 'SagaStarted':
        markers.push({ time, kind: 'saga', label: a.step ? `saga (after ${a.step})` : 'saga' });
        break;
      case 'CircuitRejected':
        row(a.step).spans.push({ step: a.step, kind: 'rejected', start: time, end: time, result: a.fallback ? 'fallback' : 'rejected', attempt });
        break;
      default:
        if (CLOSING.has(event.type)) {
          closed = true;
          end = time;
          for (const [key, span] of open) { span.end = time; span.result = 'interrupted'; open.delete(key); }
        }
    }
  }
  if (end === null) end = last;

  const order = options.order || [];
  const ordered = [...rows.values()].sort((a, b) => {
    const ia = order.indexOf(a.step);
    const ib = order.indexOf(b.step);
    return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  });
  return { start, end, closed, rows: ordered, markers };
}

/**
 * The compensation state of each step from a run's history: "compensating" once started,
 * "compensated" once completed, "failed" when it failed for good.
 * @param {object[]} events
 * @returns {Map<string, string>}
 */
export function compensationStates(events) {
  const states = new Map();
  for (const event of events || []) {
    const { step } = eventAttributes(event);
    if (!step) continue;
    if (event.type === 'CompensationStarted' || event.type === 'CompensationScheduled') {
      if (!states.has(step)) states.set(step, 'compensating');
    } else if (event.type === 'CompensationCompleted') states.set(step, 'compensated');
    else if (event.type === 'CompensationFailed') states.set(step, 'failed');
  }
  return states;
}

/**
 * A one-line summary of an event's attributes for the history list, e.g.
 * "research_market #2 · PaymentDeclined: card declined".
 * @param {object} event
 * @returns {string}
 */
export function summarizeEvent(event) {
  const a = eventAttributes(event);
  const parts = [];
  if (a.step) parts.push(a.attempt ? `${a.step} #${a.attempt}` : a.step);
  if (event.type === 'WorkflowStarted') parts.push(`${a.definition || ''}@${a.version || 0}`);
  if (a.name) parts.push(a.name);
  if (a.key) parts.push(`breaker ${a.key}`);
  if (a.purpose && !(a.purpose === 'TIMER_PURPOSE_TIMEOUT' && a.timeout)) parts.push(statusName(a.purpose));
  if (a.timeout) parts.push(`timeout ${statusName(a.timeout)}`);
  if (a.failure) parts.push(`${a.failure.type || 'Failure'}${a.failure.message ? `: ${a.failure.message}` : ''}`);
  if (a.reason) parts.push(`reason: ${a.reason}`);
  if (a.retryAt) parts.push(`retry at ${formatTime(parseTime(a.retryAt))}`);
  if (a.fireAt) parts.push(`fires ${formatTime(parseTime(a.fireAt))}`);
  if (a.fallback) parts.push('fallback used');
  return parts.join(' · ');
}

/** Tick spacing (ms) giving about `count` ticks over `span` ms. */
export function tickStep(span, count = 6) {
  const raw = Math.max(1, span / count);
  const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000,
    1800000, 3600000, 7200000, 21600000, 43200000, 86400000];
  return steps.find((step) => step >= raw) || Math.ceil(raw / 86400000) * 86400000;
}

/**
 * Draws a timeline.
 * @param {ReturnType<typeof buildTimeline>} timeline
 * @param {{width?: number, now?: number}} [options] `now` ends open spans (default: the last event)
 * @returns {SVGSVGElement}
 */
export function renderTimeline(timeline, options = {}) {
  const labelWidth = 150;
  const rowHeight = 26;
  const axisHeight = 24;
  const width = Math.max(420, Math.floor(options.width || 900));
  const start = timeline.start ?? 0;
  const end = Math.max(timeline.closed ? timeline.end : Math.max(timeline.end ?? start, options.now ?? 0), start + 1000);
  const plot = width - labelWidth - 12;
  const x = (t) => labelWidth + ((t - start) / (end - start)) * plot;
  const height = axisHeight + timeline.rows.length * rowHeight + 8;

  const svg = s('svg', {
    class: 'timeline', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `Timeline of ${timeline.rows.length} steps over ${formatDuration((end - start) / 1000)}`,
  });
  const step = tickStep(end - start);
  const axis = s('g', { class: 'tl-axis', 'aria-hidden': 'true' });
  for (let t = 0; t <= end - start; t += step) {
    const px = x(start + t);
    axis.append(s('line', { class: 'tl-grid', x1: px, x2: px, y1: axisHeight - 4, y2: height }));
    axis.append(s('text', { class: 'tl-tick', x: px, y: 14, 'text-anchor': t === 0 ? 'start' : 'middle', text: `+${formatDuration(t / 1000)}` }));
  }
  svg.append(axis);

  timeline.rows.forEach((entry, index) => {
    const y = axisHeight + index * rowHeight;
    const group = s('g', { class: 'tl-row', dataset: { step: entry.step } });
    group.append(s('text', { class: 'tl-label', x: 4, y: y + rowHeight / 2 + 4, text: entry.step.length > 20 ? `${entry.step.slice(0, 19)}…` : entry.step }));
    for (const span of entry.spans) {
      const spanEnd = span.end ?? end;
      const x1 = x(span.start);
      const w = Math.max(3, x(spanEnd) - x1);
      const result = span.result || 'running';
      const what = span.kind === 'compensation' ? 'compensation' : span.kind;
      const title = `${entry.step} ${what}${span.attempt ? ` #${span.attempt}` : ''}: ${result}, ${formatDuration((spanEnd - span.start) / 1000)}` +
        `${span.failure ? ` — ${span.failure.type || ''} ${span.failure.message || ''}` : ''}`;
      const barHeight = span.kind === 'backoff' || span.kind === 'wait' ? rowHeight - 14 : rowHeight - 8;
      group.append(s('rect', {
        class: ['tl-span', `tl-${span.kind}`, `tl-result-${result}`], x: x1, y: y + (rowHeight - barHeight) / 2, width: w, height: barHeight, rx: 3,
        dataset: { kind: span.kind, result },
      }, s('title', { text: title })));
    }
    svg.append(group);
  });

  for (const marker of timeline.markers) {
    const px = x(marker.time);
    svg.append(s('g', { class: ['tl-marker', `tl-marker-${marker.kind}`] },
      s('line', { x1: px, x2: px, y1: axisHeight - 6, y2: height }),
      s('title', { text: `${marker.label} at ${formatTime(marker.time, true)}` })));
  }
  return svg;
}

/** Event ids are int64 strings in JSON; the last one of a list as a number. */
export function lastEventId(events) {
  return events && events.length ? int64(events[events.length - 1].eventId) : 0;
}
