// baton.js — a dependency-free client for Baton's API over the Connect protocol.
//
// Works in browsers and in Node 20+ (global fetch, ReadableStream, TextEncoder/TextDecoder).
// Requests and responses are plain objects in protobuf's canonical JSON mapping: lowerCamelCase
// field names, enums by name ("WORKFLOW_STATUS_RUNNING"), int64 as strings, Duration as "1.500s",
// Timestamp as RFC 3339, google.protobuf.Value as plain JSON. Fields holding their default value
// (0, "", false, empty lists, UNSPECIFIED enums) are usually left out of responses.
//
//   import { BatonClient, BatonError } from '/baton.js';
//   const client = new BatonClient('http://127.0.0.1:7233', { token: 'TOKEN' }); // token: with --auth-file
//   const { workflowId } = await client.startWorkflow({ definition: 'marketing_campaign', input: { product: 'Widget' } });
//   for await (const progress of client.streamProgress({ workflowId })) console.log(progress.percentage);

/** The service names of the API, as they appear in request paths. */
export const WORKFLOW_SERVICE = 'baton.v1.WorkflowService';
export const ADMIN_SERVICE = 'baton.v1.AdminService';

/** Envelope flag of the end-of-stream message in a Connect streaming response. */
export const END_STREAM_FLAG = 0x02;
/** Envelope flag of a compressed message (never requested by this client). */
export const COMPRESSED_FLAG = 0x01;

/** Every Connect error code, for reference and validation. */
export const CODES = Object.freeze([
  'canceled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists',
  'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted', 'out_of_range',
  'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated',
]);

/**
 * An error answered by the server (or raised by the transport), with a Connect code.
 * `code` is one of {@link CODES}, e.g. "not_found"; `message` is the server's message.
 */
export class BatonError extends Error {
  /**
   * @param {string} code a Connect error code
   * @param {string} message a human-readable message
   * @param {{metadata?: object, details?: Array, cause?: unknown, httpStatus?: number}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message || code, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'BatonError';
    this.code = CODES.includes(code) ? code : 'unknown';
    this.rawMessage = message || '';
    this.metadata = extra.metadata || {};
    this.details = extra.details || [];
    this.httpStatus = extra.httpStatus;
  }
}

/**
 * The Connect code for an HTTP status when the body carries no Connect error.
 * @param {number} status
 * @returns {string}
 */
export function codeForHttpStatus(status) {
  switch (status) {
    case 400: return 'internal';
    case 401: return 'unauthenticated';
    case 403: return 'permission_denied';
    case 404: return 'unimplemented';
    case 408: return 'deadline_exceeded';
    case 429: case 502: case 503: case 504: return 'unavailable';
    default: return 'unknown';
  }
}

const encoder = new TextEncoder();

/**
 * Frames one message as a Connect envelope: a flag byte, a 4-byte big-endian length, the bytes.
 * @param {object|Uint8Array} message an object (encoded as JSON) or raw bytes
 * @param {number} [flags=0]
 * @returns {Uint8Array}
 */
export function encodeEnvelope(message, flags = 0) {
  const payload = message instanceof Uint8Array ? message : encoder.encode(JSON.stringify(message ?? {}));
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length, false);
  out.set(payload, 5);
  return out;
}

/**
 * An incremental parser of Connect envelopes: feed it chunks as they arrive (envelopes may be
 * split across chunks, or several may share one) and it returns every complete envelope.
 */
export class EnvelopeParser {
  /** @param {number} [maxMessageBytes] envelopes longer than this are refused */
  constructor(maxMessageBytes = 64 * 1024 * 1024) {
    this.maxMessageBytes = maxMessageBytes;
    this.buffer = new Uint8Array(0);
  }

  /**
   * Appends a chunk and returns the envelopes it completed.
   * @param {Uint8Array} chunk
   * @returns {{flags: number, data: Uint8Array}[]}
   */
  push(chunk) {
    if (chunk && chunk.length) {
      const merged = new Uint8Array(this.buffer.length + chunk.length);
      merged.set(this.buffer, 0);
      merged.set(chunk, this.buffer.length);
      this.buffer = merged;
    }
    const envelopes = [];
    let offset = 0;
    while (this.buffer.length - offset >= 5) {
      const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + offset, 5);
      const length = view.getUint32(1, false);
      if (length > this.maxMessageBytes) {
        throw new BatonError('resource_exhausted', `stream message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`);
      }
      if (this.buffer.length - offset - 5 < length) break;
      envelopes.push({ flags: view.getUint8(0), data: this.buffer.slice(offset + 5, offset + 5 + length) });
      offset += 5 + length;
    }
    if (offset > 0) this.buffer = this.buffer.slice(offset);
    return envelopes;
  }

  /** Bytes received that do not yet form a whole envelope. */
  get pending() {
    return this.buffer.length;
  }
}

/**
 * Converts a Connect error object (`{code, message, details}`) into a BatonError.
 * @param {object} error
 * @param {object} [metadata]
 * @param {number} [httpStatus]
 * @returns {BatonError}
 */
export function errorFromJSON(error, metadata, httpStatus) {
  const code = typeof error?.code === 'string' ? error.code : (httpStatus ? codeForHttpStatus(httpStatus) : 'unknown');
  return new BatonError(code, typeof error?.message === 'string' ? error.message : '', {
    metadata, details: Array.isArray(error?.details) ? error.details : [], httpStatus,
  });
}

function parseJSONText(text) {
  if (!text || !text.trim()) return {};
  return JSON.parse(text);
}

function isAbort(error) {
  return error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * Links a caller's AbortSignal and an optional timeout into one controller. `abort()` cancels the
 * call; `reason()` says why it ended early ('canceled' or 'deadline_exceeded').
 */
function callScope(callerSignal, timeoutMs) {
  const controller = new AbortController();
  let why = null;
  const onAbort = () => { why = why || 'canceled'; controller.abort(); };
  if (callerSignal) {
    if (callerSignal.aborted) onAbort();
    else callerSignal.addEventListener('abort', onAbort, { once: true });
  }
  let timer = null;
  if (timeoutMs > 0) {
    // A local guard in case the server does not answer within the deadline it was given.
    timer = setTimeout(() => { why = why || 'deadline_exceeded'; controller.abort(); }, timeoutMs + 250);
  }
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    reason: () => why,
    done() {
      if (timer !== null) clearTimeout(timer);
      if (callerSignal) callerSignal.removeEventListener('abort', onAbort);
    },
  };
}

function transportError(error, scope) {
  if (error instanceof BatonError) return error;
  const why = scope.reason();
  if (why === 'deadline_exceeded') return new BatonError('deadline_exceeded', 'the call did not finish within its timeout', { cause: error });
  if (why === 'canceled' || isAbort(error)) return new BatonError('canceled', 'the call was cancelled', { cause: error });
  return new BatonError('unavailable', `cannot reach the server: ${error?.message || error}`, { cause: error });
}

/**
 * A client of `baton.v1.WorkflowService` and `baton.v1.AdminService` over the Connect protocol.
 *
 * Every unary method takes the request object and optional call options
 * `{signal, timeoutMs, headers}` and resolves to the response object, or rejects with a
 * {@link BatonError}. The streaming methods are async generators.
 */
export class BatonClient {
  /**
   * @param {string} [baseUrl=''] the server's URL, e.g. "http://127.0.0.1:7233"; '' means this origin
   * @param {{headers?: Record<string,string>, timeoutMs?: number, fetch?: typeof fetch, token?: string,
   *   onUnauthenticated?: (error: BatonError) => void}} [options]
   *   `headers` go with every call; `timeoutMs` is the default timeout of unary calls; `token` is sent
   *   as `authorization: Bearer TOKEN` with every call (a server with `--auth-file` needs one; see
   *   {@link BatonClient#setToken}); `onUnauthenticated` is called with the error whenever a call is
   *   refused as `unauthenticated` (no token, or one the server does not know: HTTP 401)
   */
  constructor(baseUrl = '', options = {}) {
    this.baseUrl = String(baseUrl || '').replace(/\/+$/, '');
    this.headers = { ...(options.headers || {}) };
    this.timeoutMs = options.timeoutMs;
    this.fetchImpl = options.fetch || ((...args) => globalThis.fetch(...args));
    this.token = '';
    this.setToken(options.token);
    this.onUnauthenticated = typeof options.onUnauthenticated === 'function' ? options.onUnauthenticated : null;
  }

  /**
   * Sets (or, with '' / null, clears) the bearer token sent with every later call. Streams and
   * subscriptions already open keep the credentials they were opened with.
   * @param {string|null|undefined} token
   */
  setToken(token) {
    this.token = token ? String(token).trim() : '';
  }

  /** Builds the request headers of a call. */
  _headers(contentType, options) {
    const headers = { ...this.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    Object.assign(headers, options.headers || {});
    headers['content-type'] = contentType;
    headers['connect-protocol-version'] = '1';
    const timeout = options.timeoutMs;
    if (timeout > 0) headers['connect-timeout-ms'] = String(Math.ceil(timeout));
    return headers;
  }

  /** Tells `onUnauthenticated` about a refused call; returns the error (to be thrown). */
  _failed(error) {
    if (this.onUnauthenticated && error instanceof BatonError && error.code === 'unauthenticated') {
      try { this.onUnauthenticated(error); } catch (hookError) { console.error(hookError); }
    }
    return error;
  }

  /**
   * Calls a unary method.
   * @param {string} service e.g. "baton.v1.WorkflowService"
   * @param {string} method e.g. "DescribeWorkflow"
   * @param {object} request the request message (JSON form)
   * @param {{signal?: AbortSignal, timeoutMs?: number, headers?: object}} [options]
   * @returns {Promise<object>} the response message
   */
  async unary(service, method, request = {}, options = {}) {
    try {
      return await this._unary(service, method, request, options);
    } catch (error) {
      throw this._failed(error);
    }
  }

  async _unary(service, method, request, options) {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const scope = callScope(options.signal, timeoutMs);
    try {
      let response;
      let text;
      try {
        response = await this.fetchImpl(`${this.baseUrl}/${service}/${method}`, {
          method: 'POST',
          headers: this._headers('application/json', { ...options, timeoutMs }),
          body: JSON.stringify(request ?? {}),
          signal: scope.signal,
        });
        text = await response.text();
      } catch (error) {
        throw transportError(error, scope);
      }
      if (response.status === 200) {
        try {
          return parseJSONText(text);
        } catch (error) {
          throw new BatonError('internal', `cannot parse the ${method} response as JSON: ${error.message}`, { cause: error });
        }
      }
      let body = null;
      try { body = parseJSONText(text); } catch { body = null; }
      if (body && typeof body.code === 'string') throw errorFromJSON(body, {}, response.status);
      const code = codeForHttpStatus(response.status);
      throw new BatonError(code, `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`, { httpStatus: response.status });
    } finally {
      scope.done();
    }
  }

  /**
   * Calls a server-streaming method and yields each response message. The generator returns when
   * the server ends the stream with success and throws a BatonError when it ends with an error, is
   * aborted (code "canceled") or times out ("deadline_exceeded"). Breaking out of a `for await`
   * loop closes the stream.
   * @param {string} service
   * @param {string} method
   * @param {object} request
   * @param {{signal?: AbortSignal, timeoutMs?: number, headers?: object}} [options]
   * @returns {AsyncGenerator<object, void, void>}
   */
  async *serverStream(service, method, request = {}, options = {}) {
    try {
      yield* this._serverStream(service, method, request, options);
    } catch (error) {
      throw this._failed(error);
    }
  }

  async *_serverStream(service, method, request, options) {
    const scope = callScope(options.signal, options.timeoutMs);
    let reader = null;
    try {
      let response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}/${service}/${method}`, {
          method: 'POST',
          headers: this._headers('application/connect+json', options),
          body: encodeEnvelope(request ?? {}),
          signal: scope.signal,
        });
      } catch (error) {
        throw transportError(error, scope);
      }
      if (response.status !== 200) {
        let text = '';
        try { text = await response.text(); } catch { text = ''; }
        let body = null;
        try { body = parseJSONText(text); } catch { body = null; }
        if (body && typeof body.code === 'string') throw errorFromJSON(body, {}, response.status);
        if (body && body.error) throw errorFromJSON(body.error, body.metadata, response.status);
        throw new BatonError(codeForHttpStatus(response.status), `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
          { httpStatus: response.status });
      }
      if (!response.body) throw new BatonError('internal', 'the response has no readable body');
      reader = response.body.getReader();
      const parser = new EnvelopeParser();
      const decoder = new TextDecoder();
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw transportError(error, scope);
        }
        if (chunk.done) break;
        for (const envelope of parser.push(chunk.value)) {
          if (envelope.flags & COMPRESSED_FLAG) throw new BatonError('internal', 'received a compressed message, which was not requested');
          let message;
          try {
            message = parseJSONText(decoder.decode(envelope.data));
          } catch (error) {
            throw new BatonError('internal', `cannot parse a ${method} message as JSON: ${error.message}`, { cause: error });
          }
          if (envelope.flags & END_STREAM_FLAG) {
            if (message.error) throw errorFromJSON(message.error, message.metadata);
            return;
          }
          yield message;
        }
      }
      // The body ended without an end-of-stream message: the server or the network broke off.
      if (scope.reason()) throw transportError(new Error('aborted'), scope);
      throw new BatonError('unavailable', `the ${method} stream ended without an end-of-stream message`);
    } finally {
      scope.done();
      if (reader) {
        try { await reader.cancel(); } catch { /* already closed */ }
      }
      scope.abort();
    }
  }

  // ---- baton.v1.WorkflowService ----

  /** Registers a definition: `{source}` (YAML or JSON text) or `{structured}`. */
  registerDefinition(request, options) { return this.unary(WORKFLOW_SERVICE, 'RegisterDefinition', request, options); }
  /** One version of a definition with its source text: `{name, version?}`. */
  getDefinition(request, options) { return this.unary(WORKFLOW_SERVICE, 'GetDefinition', request, options); }
  /** Every definition name with its latest version. */
  listDefinitions(request = {}, options) { return this.unary(WORKFLOW_SERVICE, 'ListDefinitions', request, options); }
  /** Starts a run: `{definition, version?, workflowId?, input?, idReusePolicy?}` → `{workflowId, started, definition}`. */
  startWorkflow(request, options) { return this.unary(WORKFLOW_SERVICE, 'StartWorkflow', request, options); }
  /** Sends a signal: `{workflowId, name, payload?, requestId?}` → `{accepted}`. */
  signal(request, options) { return this.unary(WORKFLOW_SERVICE, 'Signal', request, options); }
  /** Answers a query: `{workflowId, query}` → `{result}`. */
  query(request, options) { return this.unary(WORKFLOW_SERVICE, 'Query', request, options); }
  /** Describes a run: `{workflowId}` → `{workflow: {info, input, output, failure, steps}}`. */
  describeWorkflow(request, options) { return this.unary(WORKFLOW_SERVICE, 'DescribeWorkflow', request, options); }
  /** A page of a run's history: `{workflowId, pageSize?, pageToken?, wait?}` → `{events, nextPageToken}`. */
  getHistory(request, options) { return this.unary(WORKFLOW_SERVICE, 'GetHistory', request, options); }
  /** Lists runs, newest first: `{status?, definition?, startedAfter?, startedBefore?, pageSize?, pageToken?}`. */
  listWorkflows(request = {}, options) { return this.unary(WORKFLOW_SERVICE, 'ListWorkflows', request, options); }
  /** Requests cancellation: `{workflowId, reason?}`. */
  cancelWorkflow(request, options) { return this.unary(WORKFLOW_SERVICE, 'CancelWorkflow', request, options); }
  /** Terminates a run at once: `{workflowId, reason?}`. */
  terminateWorkflow(request, options) { return this.unary(WORKFLOW_SERVICE, 'TerminateWorkflow', request, options); }
  /**
   * A ticket standing for this client's token on the Server-Sent Events routes (`?ticket=`), valid
   * 60 s for any number of requests: `{}` → `{ticket, expireTime}`; `ticket` is empty when the
   * server needs no token. {@link BatonClient#subscribeEvents} asks for one by itself.
   */
  issueStreamTicket(request = {}, options) { return this.unary(WORKFLOW_SERVICE, 'IssueStreamTicket', request, options); }

  /**
   * Streams a run's progress: a snapshot first, then one message per change; ends when the run closes.
   * @param {{workflowId: string, afterEventId?: string|number}} request
   * @param {{signal?: AbortSignal, timeoutMs?: number, headers?: object}} [options]
   * @returns {AsyncGenerator<object>} Progress messages
   */
  streamProgress(request, options = {}) { return this.serverStream(WORKFLOW_SERVICE, 'StreamProgress', request, options); }

  /**
   * Streams a run's history after an event id: past events, then each new one; ends after the closing event.
   * @param {{workflowId: string, afterEventId?: string|number}} request
   * @param {{signal?: AbortSignal, timeoutMs?: number, headers?: object}} [options]
   * @returns {AsyncGenerator<object>} HistoryEvent messages
   */
  watchHistory(request, options = {}) { return this.serverStream(WORKFLOW_SERVICE, 'WatchHistory', request, options); }

  // ---- baton.v1.AdminService ----

  /** Every circuit breaker with its state → `{breakers}`. */
  listCircuitBreakers(request = {}, options) { return this.unary(ADMIN_SERVICE, 'ListCircuitBreakers', request, options); }
  /** Closes a breaker: `{key}` → `{breaker}`. */
  resetCircuitBreaker(request, options) { return this.unary(ADMIN_SERVICE, 'ResetCircuitBreaker', request, options); }
  /** Version, uptime, store path, durability, start time. */
  getServerInfo(request = {}, options) { return this.unary(ADMIN_SERVICE, 'GetServerInfo', request, options); }

  // ---- Server-Sent Events (browser only) ----

  /**
   * Subscribes to one of the server's Server-Sent Events routes like {@link subscribeEvents}, with
   * this client's credentials. An EventSource cannot send an authorization header, so this first
   * asks IssueStreamTicket for a ticket standing for the token and opens `path?ticket=TICKET` (no
   * ticket when the server answers an empty one: it needs none). The browser reconnects a broken
   * stream with the same URL, but a ticket is only accepted for 60 s: when the server refuses a
   * reconnect (the EventSource closes) after the stream had been open, a new ticket is fetched and
   * the stream reopened, resuming after the last event id seen (`?after=`). `onError` gets the
   * EventSource's error event and its readyState (0: reconnecting, 2: closed for good), or a
   * BatonError with readyState 2 when no ticket could be had (e.g. `unauthenticated`).
   *
   *   const live = client.subscribeEvents('/v1/workflows', (type, info) => { ... }, { types: ['workflow'] });
   *   live.close();
   *
   * @param {string} path e.g. "/v1/workflows?status=WORKFLOW_STATUS_RUNNING", "/v1/workflows/ID/progress"
   *   (after the client's base URL)
   * @param {(type: string, data: any, lastEventId: string) => void} onEvent
   * @param {{types?: string[], onOpen?: () => void, onError?: (event: Event|BatonError, readyState: number) => void,
   *   withCredentials?: boolean}} [options]
   * @returns {{close: () => void, readonly source: EventSource|null, readonly ticketed: boolean}} `source`
   *   is null until the ticket came; `ticketed` says whether the open stream uses one
   */
  subscribeEvents(path, onEvent, options = {}) {
    if (typeof EventSource !== 'function') throw new BatonError('unimplemented', 'EventSource is not available here');
    const CONNECTING = 0;
    const CLOSED = 2;
    const stop = new AbortController();
    let closed = false;
    let current = null;
    let ticketed = false;
    let lastEventId = '';
    const close = () => {
      closed = true;
      stop.abort();
      current?.close();
    };
    const open = async () => {
      let ticket = '';
      try {
        const reply = await this.issueStreamTicket({}, { signal: stop.signal });
        ticket = typeof reply.ticket === 'string' ? reply.ticket : '';
      } catch (error) {
        if (closed) return;
        // A server without IssueStreamTicket has no tickets to give: the stream is tried without one.
        if (error?.code !== 'unimplemented') {
          options.onError?.(error, CLOSED);
          return;
        }
      }
      if (closed) return;
      ticketed = ticket !== '';
      let opened = false;
      const url = withQuery(`${this.baseUrl}${path}`, { ticket, after: lastEventId });
      const subscription = subscribeEvents(url, (type, data, id) => {
        if (id) lastEventId = id;
        onEvent(type, data, id);
      }, {
        types: options.types,
        withCredentials: options.withCredentials,
        onOpen: () => {
          opened = true;
          options.onOpen?.();
        },
        onError: (event, readyState) => {
          if (closed || subscription !== current) return;
          if (readyState === CLOSED && ticketed && opened) {
            // Refused after having been open: most likely the ticket expired; get a new one.
            subscription.close();
            options.onError?.(event, CONNECTING);
            open();
            return;
          }
          options.onError?.(event, readyState);
        },
      });
      current = subscription;
    };
    open();
    return {
      close,
      get source() { return current ? current.source : null; },
      get ticketed() { return ticketed; },
    };
  }
}

/** `url` with the non-empty `params` appended to its query. */
function withQuery(url, params) {
  const parts = Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  if (!parts.length) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${parts.join('&')}`;
}

/**
 * Subscribes to one of the server's Server-Sent Events endpoints (browser only: uses EventSource,
 * which reconnects by itself and resumes with Last-Event-ID). The subscription closes itself on the
 * server's `end` event. It sends no credentials: against a server with `--auth-file`, use
 * {@link BatonClient#subscribeEvents}, which adds a stream ticket to the URL.
 *
 *   const sub = subscribeEvents(`/v1/workflows/${id}/progress`, (type, data) => { ... });
 *   sub.close();
 *
 * @param {string} url e.g. "/v1/workflows/ID/progress", "/v1/workflows/ID/history", "/v1/workflows?status=..."
 * @param {(type: string, data: any, lastEventId: string) => void} onEvent called per event with its
 *   parsed JSON data (the raw text when it is not JSON)
 * @param {{types?: string[], onOpen?: () => void, onError?: (event: Event, readyState: number) => void,
 *   withCredentials?: boolean}} [options] `types` are the event names listened to
 *   (default: progress, history, workflow, end and unnamed messages)
 * @returns {{close: () => void, source: EventSource}}
 */
export function subscribeEvents(url, onEvent, options = {}) {
  if (typeof EventSource !== 'function') throw new BatonError('unimplemented', 'EventSource is not available here');
  const source = new EventSource(url, { withCredentials: !!options.withCredentials });
  const types = options.types || ['progress', 'history', 'workflow', 'message'];
  let closed = false;
  const close = () => { closed = true; source.close(); };
  const deliver = (type) => (event) => {
    if (closed) return;
    let data = event.data;
    try { data = data ? JSON.parse(data) : null; } catch { /* keep the text */ }
    onEvent(type, data, event.lastEventId);
    if (type === 'end') close();
  };
  for (const type of new Set([...types, 'end'])) source.addEventListener(type, deliver(type));
  if (options.onOpen) source.addEventListener('open', () => options.onOpen());
  source.addEventListener('error', (event) => {
    if (!closed && options.onError) options.onError(event, source.readyState);
  });
  return { close, source };
}
