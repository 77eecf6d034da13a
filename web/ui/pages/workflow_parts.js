// Pieces of the workflow page: the actions panel (signal, query, cancel, terminate), the steps
// table, the history list items and the input/output/failure blocks.

import { h, clear, statusName, statusLabel, parseTime, formatTime, jsonText, parseJSONInput, signalNames } from '../util.js';
import { statusBadge, errorBox, statusLine, confirmDialog, field, jsonBlock } from '../ui.js';
import { summarizeEvent } from '../timeline.js';

/**
 * The actions panel of a run. `update(description)` enables or disables the actions (closed
 * runs take none) and prefills the signal name from the steps' `signal` unless the user typed one.
 * @param {{client: object, workflowId: string, announce: (text: string) => void, signal: AbortSignal}} options
 * @returns {{element: HTMLElement, update: (description: object) => void}}
 */
export function actionsPanel({ client, workflowId, announce, signal }) {
  const error = errorBox('action-error');
  const message = statusLine('action-message');
  let nameTouched = false;
  let closed = false;

  const names = h('datalist', { id: 'signal-names' });
  const nameInput = h('input', { id: 'signal-name', name: 'name', type: 'text', required: true, autocomplete: 'off', list: 'signal-names', spellcheck: 'false' });
  nameInput.addEventListener('input', () => { nameTouched = true; });
  const payloadInput = h('textarea', { id: 'signal-payload', name: 'payload', rows: 3, spellcheck: 'false', class: 'mono' }, '{}');
  const payloadError = h('small', { id: 'signal-payload-error', class: 'field-error', 'aria-live': 'polite' });
  const sendButton = h('button', { type: 'submit', id: 'signal-send', class: 'primary' }, 'Send signal');
  const validatePayload = () => {
    const parsed = parseJSONInput(payloadInput.value, { allowEmpty: true });
    payloadError.textContent = parsed.ok ? '' : parsed.error;
    payloadInput.setAttribute('aria-invalid', String(!parsed.ok));
    return parsed;
  };
  payloadInput.addEventListener('input', validatePayload);
  payloadInput.setAttribute('aria-describedby', 'signal-payload-error');

  const signalForm = h('form', { id: 'signal-form', class: 'stack', 'aria-labelledby': 'signal-heading' },
    h('h3', { id: 'signal-heading' }, 'Send a signal'),
    field('Signal name', nameInput), names,
    h('div', { class: 'field' }, h('label', { for: 'signal-payload' }, 'Payload (JSON)'), payloadInput, payloadError),
    h('div', { class: 'buttons' }, sendButton));
  signalForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.clear();
    message.say('');
    const parsed = validatePayload();
    if (!parsed.ok) { payloadInput.focus(); return; }
    const name = nameInput.value.trim();
    if (!name) { nameInput.focus(); return; }
    sendButton.disabled = true;
    try {
      const request = { workflowId, name };
      if (parsed.value !== undefined) request.payload = parsed.value;
      const reply = await client.signal(request, { signal });
      const text = reply.accepted === false ? `Signal ${name} was a repeat and was ignored.` : `Signal ${name} sent.`;
      message.say(text);
      announce(text);
    } catch (err) {
      if (!signal.aborted) error.show(err);
    } finally {
      sendButton.disabled = closed;
    }
  });

  const queryInput = h('input', { id: 'query-name', name: 'query', type: 'text', list: 'query-names', value: 'state', autocomplete: 'off', spellcheck: 'false' });
  const queryNames = h('datalist', { id: 'query-names' }, ['progress', 'state', 'steps', 'output'].map((q) => h('option', { value: q })));
  const queryResult = h('pre', { id: 'query-result', class: 'json', tabindex: 0, hidden: true });
  const queryForm = h('form', { id: 'query-form', class: 'stack', 'aria-labelledby': 'query-heading' },
    h('h3', { id: 'query-heading' }, 'Query'),
    field('Query name', queryInput, 'progress, state, steps, output, or one the definition declares'), queryNames,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'query-run' }, 'Run query')),
    queryResult);
  queryForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.clear();
    try {
      const reply = await client.query({ workflowId, query: queryInput.value.trim() }, { signal });
      queryResult.textContent = jsonText(reply.result ?? null);
      queryResult.hidden = false;
    } catch (err) {
      if (!signal.aborted) error.show(err);
    }
  });

  const lifecycle = async (kind) => {
    error.clear();
    message.say('');
    const cancel = kind === 'cancel';
    const answer = await confirmDialog({
      title: cancel ? 'Cancel this run?' : 'Terminate this run?',
      message: cancel
        ? 'Scheduling stops, running attempts are asked to stop, then completed steps are compensated if the definition says so.'
        : 'The run stops at once: nothing more runs, and nothing is compensated.',
      confirmLabel: cancel ? 'Cancel run' : 'Terminate run', danger: true, withReason: true,
    });
    if (!answer.confirmed) return;
    try {
      const request = { workflowId };
      if (answer.reason) request.reason = answer.reason;
      if (cancel) await client.cancelWorkflow(request, { signal });
      else await client.terminateWorkflow(request, { signal });
      const text = cancel ? 'Cancellation requested.' : 'Run terminated.';
      message.say(text);
      announce(text);
    } catch (err) {
      if (!signal.aborted) error.show(err);
    }
  };
  const cancelButton = h('button', { type: 'button', id: 'action-cancel', class: 'danger-outline', onclick: () => lifecycle('cancel') }, 'Cancel…');
  const terminateButton = h('button', { type: 'button', id: 'action-terminate', class: 'danger', onclick: () => lifecycle('terminate') }, 'Terminate…');
  const closedNote = h('p', { id: 'actions-closed', class: 'hint', hidden: true }, 'This run is closed: it takes no more signals, cancellation or termination.');

  const element = h('section', { id: 'actions', class: 'card', 'aria-labelledby': 'actions-heading' },
    h('h2', { id: 'actions-heading' }, 'Actions'),
    error.element, message.element, closedNote,
    h('div', { class: 'actions-grid' },
      signalForm,
      h('div', { class: 'stack' }, h('h3', null, 'Stop the run'),
        h('p', { class: 'hint' }, 'Cancel compensates completed steps if the definition says so; terminate stops at once.'),
        h('div', { class: 'buttons' }, cancelButton, terminateButton)),
      queryForm));

  return {
    element,
    update(description) {
      const status = description?.info?.status;
      closed = !!status && status !== 'WORKFLOW_STATUS_RUNNING';
      for (const control of [sendButton, cancelButton, terminateButton, nameInput, payloadInput]) control.disabled = closed;
      closedNote.hidden = !closed;
      const signals = signalNames(description?.steps || []);
      clear(names);
      for (const name of signals) names.append(h('option', { value: name }));
      if (!nameTouched && signals.length && document.activeElement !== nameInput) nameInput.value = signals[0];
    },
  };
}

/**
 * The table of a run's steps, in definition order, each row with its output or last failure.
 * @param {object[]} steps StepInfo messages
 * @returns {HTMLElement}
 */
export function stepsTable(steps) {
  const rows = steps.map((step) => {
    const details = [];
    if (step.output !== undefined) details.push(h('details', null, h('summary', null, 'Output'), jsonBlock(step.output)));
    if (step.outputOmitted) details.push(h('span', { class: 'hint' }, 'output omitted (see its StepCompleted event)'));
    if (step.lastFailure) {
      const f = step.lastFailure;
      details.push(h('details', null, h('summary', null, `Failure: ${f.type || 'Failure'}`),
        h('p', null, f.message || ''), f.details !== undefined ? jsonBlock(f.details) : null));
    }
    return h('tr', { id: `step-row-${step.name}`, tabindex: -1, dataset: { step: step.name, status: statusName(step.status) } },
      h('th', { scope: 'row', class: 'mono' }, step.name),
      h('td', null, (step.kind || 'activity').replace(/_/g, ' '), step.activity ? h('div', { class: 'hint mono' }, step.activity) : null,
        step.signal ? h('div', { class: 'hint' }, `signal ${step.signal}`) : null,
        step.compensationActivity ? h('div', { class: 'hint' }, '↺ compensated by ', h('span', { class: 'mono' }, step.compensationActivity)) : null),
      h('td', null, step.phase || '—'),
      h('td', null, statusBadge(step.status)),
      h('td', { class: 'num' }, String(step.attempts || 0)),
      h('td', null, details.length ? details : '—'));
  });
  return h('div', { class: 'table-wrap' },
    h('table', { id: 'steps-table', class: 'steps' },
      h('caption', { class: 'visually-hidden' }, 'Steps in definition order'),
      h('thead', null, h('tr', null, ['Step', 'Kind', 'Phase', 'Status', 'Attempts', 'Details'].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', null, rows)));
}

/** The category of an event type, for its colour in the history list. */
export function eventCategory(type) {
  if (/^Compensation|^Saga/.test(type)) return 'compensation';
  if (/^Workflow/.test(type)) return 'workflow';
  if (/^Signal/.test(type)) return 'signal';
  if (/^Circuit/.test(type)) return 'circuit';
  if (/^Timer/.test(type)) return 'timer';
  if (/Failed|TimedOut|Cancel/.test(type)) return 'problem';
  return 'step';
}

/**
 * One item of the history list.
 * @param {object} event a HistoryEvent
 * @returns {HTMLLIElement}
 */
export function historyItem(event) {
  const time = parseTime(event.time);
  const summary = summarizeEvent(event);
  return h('li', { class: `ev ev-${eventCategory(event.type || '')}`, dataset: { eventId: String(event.eventId || ''), type: event.type || '' } },
    h('span', { class: 'ev-id' }, `#${event.eventId}`),
    h('time', { datetime: event.time || '' }, formatTime(time, true)),
    h('strong', { class: 'ev-type' }, event.type || '?'),
    summary ? h('span', { class: 'ev-summary' }, summary) : null);
}

/**
 * The input, output and failure of a run as formatted JSON.
 * @param {object} workflow a WorkflowDescription
 * @returns {HTMLElement[]}
 */
export function dataBlocks(workflow) {
  const blocks = [
    h('div', { class: 'data-block' }, h('h3', null, 'Input'), jsonBlock(workflow.input ?? null, { id: 'wf-input', 'aria-label': 'Input' })),
    h('div', { class: 'data-block' }, h('h3', null, 'Output'),
      workflow.output !== undefined ? jsonBlock(workflow.output, { id: 'wf-output', 'aria-label': 'Output' })
        : h('p', { id: 'wf-output', class: 'hint' }, workflow.info?.status === 'WORKFLOW_STATUS_RUNNING' ? 'Not yet: the run is still going.' : 'None.')),
  ];
  if (workflow.failure) {
    const f = workflow.failure;
    blocks.push(h('div', { class: 'data-block data-failure' }, h('h3', null, 'Failure'),
      h('p', null, h('strong', null, f.type || 'Failure'), f.step ? ` in step ${f.step}` : '', f.message ? `: ${f.message}` : ''),
      jsonBlock(f, { id: 'wf-failure', 'aria-label': 'Failure' })));
  }
  return blocks;
}

/** The legend of the status colours used by the DAG. */
export function statusLegend() {
  const names = ['STEP_STATUS_PENDING', 'STEP_STATUS_RUNNING', 'STEP_STATUS_RETRYING', 'STEP_STATUS_COMPLETED', 'STEP_STATUS_FAILED',
    'STEP_STATUS_SKIPPED', 'STEP_STATUS_COMPENSATED', 'STEP_STATUS_CANCELLED'];
  return h('ul', { class: 'legend', 'aria-label': 'Status colours' },
    names.map((name) => h('li', null, h('span', { class: ['swatch', `status-${statusName(name)}`], 'aria-hidden': 'true' }), statusLabel(name))));
}

/** The legend of the timeline's span kinds. */
export function timelineLegend() {
  const kinds = [['attempt', 'attempt'], ['wait', 'wait (signal, sleep)'], ['backoff', 'retry backoff'], ['compensation', 'compensation']];
  return h('ul', { class: 'legend', 'aria-label': 'Timeline colours' },
    kinds.map(([kind, label]) => h('li', null, h('span', { class: ['swatch', `tl-swatch-${kind}`], 'aria-hidden': 'true' }), label)),
    h('li', null, h('span', { class: 'swatch tl-swatch-failed', 'aria-hidden': 'true' }), 'failed attempt'));
}
