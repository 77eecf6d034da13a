// Small helpers shared by the UI's pages: DOM construction, status names, and the formatting of
// durations, times and JSON. Nothing here talks to the server, so it is importable from Node for
// unit tests (the DOM helpers need `document` only when called).

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `props` keys: `class`, `text`, `html` is not supported (no innerHTML
 * anywhere), `on<event>` handlers, `dataset` (object), any other key becomes an attribute
 * (`null`/`false` values are skipped, `true` sets an empty attribute).
 * @param {string} tag
 * @param {object|null} [props]
 * @param {...(Node|string|number|null|undefined|false|Array)} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/**
 * Creates an SVG element with the same conventions as {@link h}.
 * @param {string} tag
 * @param {object|null} [props]
 * @param {...any} children
 * @returns {SVGElement}
 */
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(element, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') element.textContent = String(value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in element && element.namespaceURI !== SVG_NS) element.value = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Removes every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// ---- statuses ----

/** Every workflow status a run can have, in the order filters list them. */
export const WORKFLOW_STATUSES = [
  'WORKFLOW_STATUS_RUNNING', 'WORKFLOW_STATUS_COMPLETED', 'WORKFLOW_STATUS_FAILED', 'WORKFLOW_STATUS_CANCELLED',
  'WORKFLOW_STATUS_TERMINATED', 'WORKFLOW_STATUS_COMPENSATED', 'WORKFLOW_STATUS_COMPENSATION_FAILED',
  'WORKFLOW_STATUS_CORRUPTED',
];

const PREFIXES = ['WORKFLOW_STATUS_', 'STEP_STATUS_', 'CIRCUIT_STATE_', 'TIMER_PURPOSE_', 'TIMEOUT_KIND_'];

/**
 * The short, CSS-friendly name of an enum value: "WORKFLOW_STATUS_COMPENSATION_FAILED" →
 * "compensation-failed", "STEP_STATUS_RUNNING" → "running", undefined → "unspecified".
 * These names are the status colours' names (`--status-<name>`, `.status-<name>`).
 * @param {string|undefined} value
 * @returns {string}
 */
export function statusName(value) {
  if (!value) return 'unspecified';
  let text = String(value);
  for (const prefix of PREFIXES) if (text.startsWith(prefix)) { text = text.slice(prefix.length); break; }
  return text.toLowerCase().replace(/_/g, '-');
}

/** A status name for people: "compensation-failed" → "compensation failed". */
export function statusLabel(value) {
  return statusName(value).replace(/-/g, ' ');
}

/** True when a workflow status means the run is over. */
export function isClosed(status) {
  return !!status && status !== 'WORKFLOW_STATUS_RUNNING' && status !== 'WORKFLOW_STATUS_UNSPECIFIED';
}

// ---- durations and times ----

/**
 * Seconds in a protobuf Duration's JSON form ("1.500s", "-2s"); numbers pass through as seconds.
 * @param {string|number|undefined|null} value
 * @returns {number|null} null when absent or unreadable
 */
export function parseDuration(value) {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(String(value).trim());
  return match ? Number(match[1]) : null;
}

/**
 * A duration for people: "850 ms", "12 s", "2 min 05 s", "1 h 02 min", "3 d 4 h".
 * @param {number|null} seconds
 * @returns {string} "—" for null
 */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  if (abs < 1) return `${sign}${Math.round(abs * 1000)} ms`;
  if (abs < 60) return `${sign}${abs < 10 ? (Math.floor(abs * 10) / 10).toString() : Math.floor(abs)} s`;
  const total = Math.floor(abs);
  const pad = (n) => String(n).padStart(2, '0');
  if (total < 3600) return `${sign}${Math.floor(total / 60)} min ${pad(total % 60)} s`;
  if (total < 86400) return `${sign}${Math.floor(total / 3600)} h ${pad(Math.floor((total % 3600) / 60))} min`;
  return `${sign}${Math.floor(total / 86400)} d ${Math.floor((total % 86400) / 3600)} h`;
}

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp (any number of fractional digits).
 * @param {string|undefined} value
 * @returns {number|null}
 */
export function parseTime(value) {
  if (!value) return null;
  // Date.parse is only specified for up to 3 fractional digits.
  const text = String(value).replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A local date and time, "2025-01-31 14:05:09"; with `withMillis`, ".123" follows.
 * @param {number|null} ms
 * @param {boolean} [withMillis]
 */
export function formatTime(ms, withMillis = false) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMillis ? `${text}.${pad(d.getMilliseconds(), 3)}` : text;
}

// ---- JSON ----

/** Pretty-printed JSON of a value; "—" when undefined. */
export function jsonText(value) {
  if (value === undefined) return '—';
  return JSON.stringify(value, null, 2);
}

/**
 * Parses what a user typed as JSON.
 * @param {string} text
 * @param {{allowEmpty?: boolean}} [options] with allowEmpty, blank text is `undefined`
 * @returns {{ok: true, value: any} | {ok: false, error: string}}
 */
export function parseJSONInput(text, options = {}) {
  if (!String(text).trim()) {
    return options.allowEmpty ? { ok: true, value: undefined } : { ok: false, error: 'Enter a JSON value, e.g. {}' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${error.message}` };
  }
}

/**
 * A starting input for a definition: every `${input.NAME...}` its source reads, as keys of an
 * object with empty-string values. "steps: {a: {input: {t: '${input.topic}'}}}" → {"topic": ""}.
 * @param {string} source the definition's YAML or JSON text
 * @returns {object}
 */
export function inputSkeleton(source) {
  const skeleton = {};
  const pattern = /\$\{\s*input\.([A-Za-z_][A-Za-z0-9_]*)/g;
  let match;
  while ((match = pattern.exec(String(source || ''))) !== null) skeleton[match[1]] = '';
  return skeleton;
}

/**
 * The signals a run's `wait_for_signal` steps wait for, the one to prefill first: a waiting
 * (running) step's, else a pending step's, else any.
 * @param {Array<{kind?: string, signal?: string, status?: string}>} steps
 * @returns {string[]}
 */
export function signalNames(steps) {
  const rank = (step) => (step.status === 'STEP_STATUS_RUNNING' ? 0 : step.status === 'STEP_STATUS_PENDING' || !step.status ? 1 : 2);
  const names = [];
  const waiting = (steps || []).filter((step) => step.signal || step.kind === 'wait_for_signal');
  for (const step of [...waiting].sort((a, b) => rank(a) - rank(b))) {
    if (step.signal && !names.includes(step.signal)) names.push(step.signal);
  }
  return names;
}

/** Number of an int64 field that protobuf JSON writes as a string. */
export function int64(value) {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** The workflow page's hash for a run id. */
export function workflowHref(id) {
  return `#/workflows/${encodeURIComponent(id)}`;
}

/** The definition page's hash for a definition name (and optional version). */
export function definitionHref(name, version) {
  return `#/definitions/${encodeURIComponent(name)}${version ? `?version=${version}` : ''}`;
}
