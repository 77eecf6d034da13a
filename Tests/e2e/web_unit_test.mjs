// Unit tests of the web client and the UI's pure logic, runnable without a Baton server:
//
//   node Tests/e2e/web_unit_test.mjs
//
// The client is exercised against a small in-process HTTP server that speaks just enough of the
// Connect protocol (unary JSON, server-streaming envelopes split at awkward places, errors,
// end-of-stream errors, a stream that never ends). Exits non-zero on any failure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';

import { BatonClient, BatonError, EnvelopeParser, encodeEnvelope, codeForHttpStatus, END_STREAM_FLAG } from '../../clients/web/baton.js';
import { layoutDag, placeNodes, nodeCaption } from '../../web/ui/dag.js';
import { buildTimeline, compensationStates, summarizeEvent, eventAttributes, tickStep } from '../../web/ui/timeline.js';
import {
  parseDuration, formatDuration, parseTime, statusName, statusLabel, inputSkeleton, signalNames, parseJSONInput, isClosed, int64,
} from '../../web/ui/util.js';
import { progressSignature, reconnectDelay } from '../../web/ui/pages/workflow.js';

const bytes = (text) => new TextEncoder().encode(text);
const decode = (data) => new TextDecoder().decode(data);

// ---- envelopes ----

test('encodeEnvelope frames JSON with a flag byte and a big-endian length', () => {
  const frame = encodeEnvelope({ workflowId: 'w' });
  const json = '{"workflowId":"w"}';
  assert.equal(frame[0], 0);
  assert.equal(new DataView(frame.buffer).getUint32(1, false), json.length);
  assert.equal(decode(frame.slice(5)), json);
  assert.equal(encodeEnvelope({}, END_STREAM_FLAG)[0], 2);
});

test('EnvelopeParser handles envelopes split byte by byte and several per chunk', () => {
  const all = new Uint8Array([...encodeEnvelope({ a: 1 }), ...encodeEnvelope({ b: 'é' }), ...encodeEnvelope({}, END_STREAM_FLAG)]);
  const parser = new EnvelopeParser();
  const seen = [];
  for (const byte of all) seen.push(...parser.push(new Uint8Array([byte])));
  assert.deepEqual(seen.map((e) => [e.flags, JSON.parse(decode(e.data))]), [[0, { a: 1 }], [0, { b: 'é' }], [2, {}]]);
  assert.equal(parser.pending, 0);

  const whole = new EnvelopeParser().push(all);
  assert.equal(whole.length, 3);

  const split = new EnvelopeParser();
  assert.deepEqual(split.push(all.slice(0, 3)), []);
  assert.equal(split.push(all.slice(3, 12)).length, 1);
  assert.equal(split.push(all.slice(12)).length, 2);
});

test('EnvelopeParser accepts empty envelopes and refuses oversized ones', () => {
  const parser = new EnvelopeParser(10);
  assert.deepEqual(parser.push(new Uint8Array([2, 0, 0, 0, 0])).map((e) => e.data.length), [0]);
  assert.throws(() => parser.push(new Uint8Array([0, 0, 0, 0, 11])), (error) => error instanceof BatonError && error.code === 'resource_exhausted');
});

test('HTTP statuses without a Connect error map to Connect codes', () => {
  assert.equal(codeForHttpStatus(404), 'unimplemented');
  assert.equal(codeForHttpStatus(503), 'unavailable');
  assert.equal(codeForHttpStatus(401), 'unauthenticated');
  assert.equal(codeForHttpStatus(418), 'unknown');
  assert.equal(new BatonError('bogus', 'x').code, 'unknown');
});

// ---- DAG ----

const CAMPAIGN = [
  { name: 'research_market' },
  { name: 'research_competitors' },
  { name: 'analyze_data', dependsOn: ['research_market'] },
  { name: 'create_brief', dependsOn: ['research_competitors'] },
  { name: 'generate_headlines', dependsOn: ['create_brief'] },
  { name: 'generate_body', dependsOn: ['create_brief'] },
  { name: 'create_images', dependsOn: ['analyze_data'] },
  { name: 'review_content', dependsOn: ['generate_headlines', 'generate_body'] },
  { name: 'create_landing_page', dependsOn: ['create_images', 'generate_headlines'] },
  { name: 'approval', dependsOn: ['review_content', 'create_landing_page'] },
  { name: 'deploy', dependsOn: ['approval'] },
];

test('layoutDag layers steps by their longest dependency chain', () => {
  const { layers, layerOf, edges } = layoutDag(CAMPAIGN);
  assert.deepEqual(layers.map((layer) => [...layer].sort()), [
    ['research_competitors', 'research_market'],
    ['analyze_data', 'create_brief'],
    ['create_images', 'generate_body', 'generate_headlines'],
    ['create_landing_page', 'review_content'],
    ['approval'],
    ['deploy'],
  ]);
  assert.equal(layerOf.get('deploy'), 5);
  assert.equal(edges.length, 12);
  for (const [from, to] of edges) assert.ok(layerOf.get(from) < layerOf.get(to), `${from} → ${to}`);
});

test('layoutDag orders a layer by the positions of its dependencies', () => {
  const { layers } = layoutDag(CAMPAIGN);
  // analyze_data follows research_market (position 0), create_brief follows research_competitors (1).
  assert.deepEqual(layers[1], ['analyze_data', 'create_brief']);
  // create_images (after analyze_data, position 0) comes before the two children of create_brief.
  assert.equal(layers[2][0], 'create_images');
});

test('layoutDag ignores unknown dependencies, self-dependencies and cuts cycles', () => {
  const { layers } = layoutDag([{ name: 'a', dependsOn: ['ghost', 'a'] }, { name: 'b', dependsOn: ['c'] }, { name: 'c', dependsOn: ['b'] }]);
  assert.equal(layers.flat().length, 3);
  assert.deepEqual(layers[0].includes('a'), true);
  assert.deepEqual(layoutDag([]).layers, []);
  assert.deepEqual(layoutDag([{ name: 'only' }]).layers, [['only']]);
});

test('placeNodes gives every node a distinct position inside the drawing', () => {
  const layout = layoutDag(CAMPAIGN);
  const { width, height, nodes } = placeNodes(layout);
  assert.equal(nodes.size, CAMPAIGN.length);
  const seen = new Set();
  for (const { x, y } of nodes.values()) {
    assert.ok(x >= 0 && y >= 0 && x < width && y < height);
    seen.add(`${x},${y}`);
  }
  assert.equal(seen.size, CAMPAIGN.length);
});

test('nodeCaption shows status, attempts and compensation', () => {
  assert.equal(nodeCaption({ status: 'STEP_STATUS_RUNNING', attempts: 1 }), 'running');
  assert.equal(nodeCaption({ status: 'STEP_STATUS_RETRYING', attempts: 3 }), 'retrying · 3 attempts');
  assert.equal(nodeCaption({ status: 'STEP_STATUS_COMPLETED', attempts: 1 }, 'compensating'), 'completed · ↺ compensating');
  assert.equal(nodeCaption({ status: 'STEP_STATUS_COMPENSATED', attempts: 1 }, 'compensated'), 'compensated');
});

// ---- timeline ----

const T0 = Date.parse('2025-03-01T10:00:00Z');
const at = (ms) => new Date(T0 + ms).toISOString().replace('Z', '123Z').replace(/\.(\d{3})123Z$/, '.$1456789Z');
let nextId = 1;
const ev = (ms, type, attrs = {}) => ({ eventId: String(nextId++), time: at(ms), type, [type[0].toLowerCase() + type.slice(1)]: attrs });
const HISTORY = [
  ev(0, 'WorkflowStarted', { definition: 'd', version: 1, input: {} }),
  ev(10, 'StepScheduled', { step: 'a', attempt: 1 }),
  ev(20, 'StepStarted', { step: 'a', attempt: 1 }),
  ev(500, 'StepFailed', { step: 'a', attempt: 1, failure: { type: 'Boom', message: 'no' }, retryAt: at(1500) }),
  ev(500, 'TimerStarted', { timerId: 'a/1/retry_backoff', step: 'a', attempt: 1, purpose: 'TIMER_PURPOSE_RETRY_BACKOFF', fireAt: at(1500) }),
  ev(1500, 'TimerFired', { timerId: 'a/1/retry_backoff' }),
  ev(1500, 'StepScheduled', { step: 'a', attempt: 2 }),
  ev(2500, 'StepCompleted', { step: 'a', attempt: 2, output: {} }),
  ev(2500, 'StepScheduled', { step: 'wait', attempt: 1 }),
  ev(4000, 'SignalReceived', { name: 'go', payload: { ok: true } }),
  ev(4000, 'StepCompleted', { step: 'wait', attempt: 1 }),
  ev(4100, 'StepScheduled', { step: 'b', attempt: 1 }),
  ev(4200, 'CancelRequested', { reason: 'enough' }),
  ev(4200, 'SagaStarted', {}),
  ev(4300, 'CompensationStarted', { step: 'a' }),
  ev(4300, 'CompensationScheduled', { step: 'a', attempt: 1 }),
  ev(4800, 'CompensationCompleted', { step: 'a' }),
  ev(4900, 'WorkflowCancelled', { reason: 'enough' }),
];

test('buildTimeline turns a history into attempts, waits, backoffs and compensations', () => {
  const timeline = buildTimeline(HISTORY, { kinds: { wait: 'wait_for_signal', a: 'activity', b: 'activity' }, order: ['wait', 'a', 'b'] });
  assert.equal(timeline.start, T0);
  assert.equal(timeline.end, T0 + 4900);
  assert.equal(timeline.closed, true);
  assert.deepEqual(timeline.rows.map((row) => row.step), ['wait', 'a', 'b']);
  const a = timeline.rows.find((row) => row.step === 'a').spans;
  assert.deepEqual(a.map((span) => [span.kind, span.attempt, span.result, span.start - T0, span.end - T0]), [
    ['attempt', 1, 'failed', 10, 500],
    ['backoff', 1, 'completed', 500, 1500],
    ['attempt', 2, 'completed', 1500, 2500],
    ['compensation', 1, 'completed', 4300, 4800],
  ]);
  assert.equal(a[0].failure.type, 'Boom');
  assert.equal(a[0].startedAt, T0 + 20);
  const wait = timeline.rows.find((row) => row.step === 'wait').spans;
  assert.deepEqual(wait.map((span) => [span.kind, span.result]), [['wait', 'completed']]);
  const b = timeline.rows.find((row) => row.step === 'b').spans;
  assert.deepEqual(b.map((span) => [span.result, span.end - T0]), [['interrupted', 4900]]);
  assert.deepEqual(timeline.markers.map((m) => m.kind), ['signal', 'cancel', 'saga']);
});

test('buildTimeline keeps spans of a running run open', () => {
  const timeline = buildTimeline(HISTORY.slice(0, 3));
  assert.equal(timeline.closed, false);
  assert.equal(timeline.rows[0].spans[0].end, null);
  assert.equal(timeline.end, T0 + 20);
  assert.deepEqual(buildTimeline([]).rows, []);
});

test('compensationStates follows started, completed and failed compensations', () => {
  assert.deepEqual([...compensationStates(HISTORY)], [['a', 'compensated']]);
  assert.deepEqual([...compensationStates(HISTORY.slice(0, 15))], [['a', 'compensating']]);
  const failed = [...HISTORY.slice(0, 16), ev(4700, 'CompensationFailed', { step: 'a', failure: { type: 'X' } })];
  assert.deepEqual([...compensationStates(failed)], [['a', 'failed']]);
});

test('summarizeEvent and eventAttributes read the typed attributes', () => {
  assert.deepEqual(eventAttributes(HISTORY[1]), { step: 'a', attempt: 1 });
  assert.match(summarizeEvent(HISTORY[3]), /^a #1 · Boom: no · retry at /);
  assert.equal(summarizeEvent(HISTORY[0]), 'd@1');
  assert.equal(summarizeEvent(HISTORY[9]), 'go');
  assert.equal(summarizeEvent({ type: 'WorkflowCompensated', workflowCompensated: {} }), '');
  assert.equal(tickStep(60000), 10000);
});

// ---- formatting helpers ----

test('durations, timestamps, status names and int64 values', () => {
  assert.equal(parseDuration('1.500s'), 1.5);
  assert.equal(parseDuration('-2s'), -2);
  assert.equal(parseDuration('3'), null);
  assert.equal(parseDuration(undefined), null);
  assert.equal(parseDuration(4), 4);
  assert.equal(formatDuration(0.25), '250 ms');
  assert.equal(formatDuration(4.56), '4.5 s');
  assert.equal(formatDuration(42), '42 s');
  assert.equal(formatDuration(125), '2 min 05 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
  assert.equal(formatDuration(90000), '1 d 1 h');
  assert.equal(formatDuration(null), '—');
  assert.equal(parseTime('2025-03-01T10:00:00.123456789Z'), T0 + 123);
  assert.equal(parseTime('2025-03-01T10:00:00Z'), T0);
  assert.equal(parseTime('nonsense'), null);
  assert.equal(statusName('WORKFLOW_STATUS_COMPENSATION_FAILED'), 'compensation-failed');
  assert.equal(statusName('STEP_STATUS_RUNNING'), 'running');
  assert.equal(statusName('CIRCUIT_STATE_HALF_OPEN'), 'half-open');
  assert.equal(statusName(undefined), 'unspecified');
  assert.equal(statusLabel('WORKFLOW_STATUS_COMPENSATION_FAILED'), 'compensation failed');
  assert.equal(isClosed('WORKFLOW_STATUS_RUNNING'), false);
  assert.equal(isClosed('WORKFLOW_STATUS_CANCELLED'), true);
  assert.equal(isClosed(undefined), false);
  assert.equal(int64('42'), 42);
  assert.equal(int64(undefined), 0);
});

test('input skeletons, signal names and JSON input', () => {
  const source = 'steps:\n  a: { input: { t: "${input.product}", u: "${ input.region.code }" } }\n  b: { input: { again: "${input.product}" } }';
  assert.deepEqual(inputSkeleton(source), { product: '', region: '' });
  assert.deepEqual(inputSkeleton(''), {});
  assert.deepEqual(signalNames([
    { name: 'x', kind: 'activity' },
    { name: 'done', kind: 'wait_for_signal', signal: 'old', status: 'STEP_STATUS_COMPLETED' },
    { name: 'now', kind: 'wait_for_signal', signal: 'approve_campaign', status: 'STEP_STATUS_RUNNING' },
    { name: 'later', kind: 'wait_for_signal', signal: 'ship', status: 'STEP_STATUS_PENDING' },
  ]), ['approve_campaign', 'ship', 'old']);
  assert.deepEqual(parseJSONInput('{"a": 1}'), { ok: true, value: { a: 1 } });
  assert.equal(parseJSONInput('{a: 1}').ok, false);
  assert.deepEqual(parseJSONInput('  ', { allowEmpty: true }), { ok: true, value: undefined });
  assert.equal(parseJSONInput('').ok, false);
});

test('progress signatures change with step sets, not with percentages', () => {
  const p = { status: 'WORKFLOW_STATUS_RUNNING', percentage: 10, runningSteps: ['a'], attempts: { a: 1 } };
  assert.equal(progressSignature(p), progressSignature({ ...p, percentage: 50, eta: '3s' }));
  assert.notEqual(progressSignature(p), progressSignature({ ...p, completedSteps: ['a'] }));
  assert.equal(reconnectDelay(1), 500);
  assert.equal(reconnectDelay(4), 4000);
  assert.equal(reconnectDelay(100), 15000);
});

// ---- the client against a mock Connect server ----

async function mockServer() {
  const seen = [];
  const closed = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    seen.push({ url: req.url, headers: req.headers, body });
    const method = req.url.split('/').pop();
    const streaming = req.headers['content-type'] === 'application/connect+json';
    res.on('close', () => closed.push(method));
    const request = streaming ? JSON.parse(decode(new EnvelopeParser().push(new Uint8Array(body))[0].data)) : JSON.parse(body.toString() || '{}');
    if (method === 'DescribeWorkflow') {
      if (request.workflowId === 'missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'not_found', message: `no workflow ${request.workflowId}` }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ workflow: { info: { workflowId: request.workflowId, status: 'WORKFLOW_STATUS_COMPLETED' } } }));
      }
    } else if (method === 'GetServerInfo') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('overloaded');
    } else if (method === 'ListDefinitions') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('');
    } else if (method === 'Query') {
      // Never answers: the client's own timeout must fire.
    } else if (method === 'StreamProgress') {
      res.writeHead(200, { 'content-type': 'application/connect+json' });
      const all = Buffer.concat([
        encodeEnvelope({ workflowId: request.workflowId, percentage: 10 }),
        encodeEnvelope({ workflowId: request.workflowId, percentage: 60 }),
        encodeEnvelope({ workflowId: request.workflowId, percentage: 100, status: 'WORKFLOW_STATUS_COMPLETED' }),
        request.workflowId === 'fails'
          ? encodeEnvelope({ error: { code: 'resource_exhausted', message: 'too many streams' } }, END_STREAM_FLAG)
          : encodeEnvelope({}, END_STREAM_FLAG),
      ].map((part) => Buffer.from(part)));
      if (request.workflowId === 'forever') {
        res.write(all.subarray(0, 5 + JSON.stringify({ workflowId: 'forever', percentage: 10 }).length));
        return; // then nothing: the client aborts
      }
      if (request.workflowId === 'truncated') { res.end(all.subarray(0, 30)); return; }
      // Awkward splits: 1 byte, 7 bytes, then the rest (two envelopes and a half), then the end.
      res.write(all.subarray(0, 1));
      await new Promise((r) => setTimeout(r, 5));
      res.write(all.subarray(1, 8));
      await new Promise((r) => setTimeout(r, 5));
      res.write(all.subarray(8, all.length - 3));
      await new Promise((r) => setTimeout(r, 5));
      res.end(all.subarray(all.length - 3));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, seen, closed, close: () => { server.closeAllConnections(); server.close(); } };
}

test('the client speaks Connect unary and streaming calls', async (t) => {
  const mock = await mockServer();
  t.after(() => mock.close());
  const client = new BatonClient(`${mock.url}/`, { headers: { authorization: 'Bearer t0ken' } });

  await t.test('unary success, headers and timeout', async () => {
    const reply = await client.describeWorkflow({ workflowId: 'w1' }, { timeoutMs: 1500 });
    assert.equal(reply.workflow.info.status, 'WORKFLOW_STATUS_COMPLETED');
    const call = mock.seen.at(-1);
    assert.equal(call.url, '/baton.v1.WorkflowService/DescribeWorkflow');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.headers['connect-protocol-version'], '1');
    assert.equal(call.headers['connect-timeout-ms'], '1500');
    assert.equal(call.headers.authorization, 'Bearer t0ken');
    assert.deepEqual(JSON.parse(call.body.toString()), { workflowId: 'w1' });
  });

  await t.test('an empty 200 body is an empty message', async () => {
    assert.deepEqual(await client.listDefinitions(), {});
  });

  await t.test('unary errors become BatonErrors with the Connect code', async () => {
    await assert.rejects(client.describeWorkflow({ workflowId: 'missing' }),
      (error) => error instanceof BatonError && error.code === 'not_found' && error.message === 'no workflow missing' && error.httpStatus === 404);
    await assert.rejects(client.getServerInfo(), (error) => error.code === 'unavailable' && /503/.test(error.message));
    assert.equal(mock.seen.at(-1).url, '/baton.v1.AdminService/GetServerInfo');
  });

  await t.test('a call that outlives its timeout fails with deadline_exceeded', async () => {
    const started = Date.now();
    await assert.rejects(client.query({ workflowId: 'w', query: 'state' }, { timeoutMs: 200 }), (error) => error.code === 'deadline_exceeded');
    assert.ok(Date.now() - started < 3000);
  });

  await t.test('an unreachable server is unavailable', async () => {
    const nowhere = new BatonClient('http://127.0.0.1:1');
    await assert.rejects(nowhere.listDefinitions(), (error) => error.code === 'unavailable');
  });

  await t.test('a stream yields every message across awkward chunk boundaries', async () => {
    const seen = [];
    for await (const progress of client.streamProgress({ workflowId: 'w2' })) seen.push(progress.percentage);
    assert.deepEqual(seen, [10, 60, 100]);
    const call = mock.seen.at(-1);
    assert.equal(call.headers['content-type'], 'application/connect+json');
    assert.deepEqual(JSON.parse(decode(new EnvelopeParser().push(new Uint8Array(call.body))[0].data)), { workflowId: 'w2' });
  });

  await t.test('an end-of-stream error is thrown after the messages', async () => {
    const seen = [];
    await assert.rejects((async () => { for await (const p of client.streamProgress({ workflowId: 'fails' })) seen.push(p.percentage); })(),
      (error) => error instanceof BatonError && error.code === 'resource_exhausted' && error.message === 'too many streams');
    assert.deepEqual(seen, [10, 60, 100]);
  });

  await t.test('a body that ends without an end-of-stream message is an error', async () => {
    await assert.rejects((async () => { for await (const _ of client.watchHistory({ workflowId: 'x' })) { /* none */ } })(),
      (error) => error.code === 'unimplemented'); // the mock answers 404 to WatchHistory
    await assert.rejects((async () => { for await (const _ of client.streamProgress({ workflowId: 'truncated' })) { /* some */ } })(),
      (error) => error.code === 'unavailable' && /end-of-stream/.test(error.message));
  });

  await t.test('aborting a stream throws canceled and closes the connection', async () => {
    const controller = new AbortController();
    const seen = [];
    const before = mock.closed.length;
    await assert.rejects((async () => {
      for await (const p of client.streamProgress({ workflowId: 'forever' }, { signal: controller.signal })) {
        seen.push(p.percentage);
        setTimeout(() => controller.abort(), 20);
      }
    })(), (error) => error instanceof BatonError && error.code === 'canceled');
    assert.deepEqual(seen, [10]);
    for (let i = 0; i < 50 && mock.closed.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(mock.closed.length > before, 'the server saw the stream close');
  });

  await t.test('breaking out of a stream closes it', async () => {
    const before = mock.closed.length;
    for await (const p of client.streamProgress({ workflowId: 'forever' })) { assert.equal(p.percentage, 10); break; }
    for (let i = 0; i < 50 && mock.closed.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(mock.closed.length > before, 'the server saw the stream close');
  });

  await t.test('a stream timeout is deadline_exceeded', async () => {
    await assert.rejects((async () => { for await (const _ of client.streamProgress({ workflowId: 'forever' }, { timeoutMs: 100 })) { /* wait */ } })(),
      (error) => error.code === 'deadline_exceeded');
    assert.equal(mock.seen.at(-1).headers['connect-timeout-ms'], '100');
  });
});

// ---- tokens and stream tickets ----

/** A mock that wants `authorization: Bearer good`: 401 without it, 403 for StartWorkflow, numbered tickets. */
async function authServer({ emptyTicket = false } = {}) {
  const seen = [];
  let tickets = 0;
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    seen.push({ url: req.url, headers: req.headers });
    const method = req.url.split('/').pop();
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer good') {
      reply(401, { code: 'unauthenticated', message: 'no credentials: send `authorization: Bearer TOKEN`' });
    } else if (method === 'StartWorkflow') {
      reply(403, { code: 'permission_denied', message: "token 'r' (role reader) may not call it" });
    } else if (method === 'IssueStreamTicket') {
      tickets += 1;
      reply(200, emptyTicket ? {} : { ticket: `ticket-${tickets}`, expireTime: '2030-01-01T00:00:00Z' });
    } else if (method === 'StreamProgress') {
      res.writeHead(200, { 'content-type': 'application/connect+json' });
      res.end(Buffer.from(encodeEnvelope({}, END_STREAM_FLAG)));
    } else {
      reply(200, {});
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => { server.closeAllConnections(); server.close(); } };
}

/** A stand-in for the browser's EventSource: records every instance; tests drive its events. */
class FakeEventSource {
  static instances = [];
  constructor(url, init) {
    this.url = url;
    this.init = init;
    this.readyState = 0;
    this.listeners = new Map();
    this.closed = false;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }
  close() { this.closed = true; this.readyState = 2; }
  emit(type, fields = {}) {
    for (const listener of this.listeners.get(type) || []) listener({ type, ...fields });
  }
  open() { this.readyState = 1; this.emit('open'); }
  message(type, data, lastEventId = '') { this.emit(type, { data: JSON.stringify(data), lastEventId }); }
  fail(readyState) { this.readyState = readyState; this.emit('error'); }
}

async function until(predicate, what) {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a token goes with every call as a bearer header, setToken changes it', async (t) => {
  const mock = await authServer();
  t.after(() => mock.close());
  const refused = [];
  const client = new BatonClient(mock.url, { token: 'good', onUnauthenticated: (error) => refused.push(error) });
  assert.equal(client.token, 'good');
  await client.listDefinitions();
  assert.equal(mock.seen.at(-1).headers.authorization, 'Bearer good');
  for await (const _ of client.streamProgress({ workflowId: 'w' })) { /* none */ }
  assert.equal(mock.seen.at(-1).headers.authorization, 'Bearer good');
  assert.deepEqual(refused, []);

  // 403: a BatonError with the server's message; not an authentication problem.
  await assert.rejects(client.startWorkflow({ definition: 'd' }),
    (error) => error.code === 'permission_denied' && error.httpStatus === 403 && /role reader/.test(error.message));
  assert.deepEqual(refused, []);

  client.setToken('bad');
  await assert.rejects(client.listDefinitions(), (error) => error.code === 'unauthenticated' && error.httpStatus === 401);
  assert.equal(mock.seen.at(-1).headers.authorization, 'Bearer bad');
  assert.equal(refused.length, 1);
  assert.match(refused[0].message, /no credentials/);
  // Streams report 401 too, once.
  await assert.rejects((async () => { for await (const _ of client.streamProgress({ workflowId: 'w' })) { /* none */ } })(),
    (error) => error.code === 'unauthenticated');
  assert.equal(refused.length, 2);

  client.setToken('');
  await assert.rejects(client.listDefinitions(), (error) => error.code === 'unauthenticated');
  assert.equal(mock.seen.at(-1).headers.authorization, undefined, 'no header without a token');
  assert.equal(refused.length, 3);

  // An explicit header wins over the token.
  client.setToken('bad');
  await client.listDefinitions({}, { headers: { authorization: 'Bearer good' } });
  assert.equal(mock.seen.at(-1).headers.authorization, 'Bearer good');
});

test('subscribeEvents adds a stream ticket and renews it when the stream is refused after being open', async (t) => {
  const mock = await authServer();
  t.after(() => { mock.close(); delete globalThis.EventSource; });
  globalThis.EventSource = FakeEventSource;
  FakeEventSource.instances = [];
  const client = new BatonClient(`${mock.url}/`, { token: 'good' });
  const events = [];
  const errors = [];
  let opens = 0;
  const sub = client.subscribeEvents('/v1/workflows/w1/progress', (type, data, id) => events.push([type, data, id]), {
    types: ['progress'], onOpen: () => { opens += 1; }, onError: (event, readyState) => errors.push(readyState),
  });
  assert.equal(sub.source, null, 'no EventSource before the ticket');
  await until(() => FakeEventSource.instances.length === 1, 'the first EventSource');
  const first = FakeEventSource.instances[0];
  assert.equal(first.url, `${mock.url}/v1/workflows/w1/progress?ticket=ticket-1`);
  assert.equal(mock.seen.at(-1).url, '/baton.v1.WorkflowService/IssueStreamTicket');
  assert.equal(mock.seen.at(-1).headers.authorization, 'Bearer good');
  assert.ok(!first.url.includes('good'), 'the token is not in the URL');
  assert.equal(sub.source, first);
  assert.equal(sub.ticketed, true);
  first.open();
  first.message('progress', { percentage: 10 }, '7');
  assert.deepEqual(events, [['progress', { percentage: 10 }, '7']]);

  // A reconnect that the browser tries itself keeps the URL: reported as reconnecting.
  first.fail(0);
  assert.deepEqual(errors, [0]);
  // The server refused the old ticket: the EventSource closed; a new ticket, resuming after event 7.
  first.fail(2);
  await until(() => FakeEventSource.instances.length === 2, 'the reopened EventSource');
  const second = FakeEventSource.instances[1];
  assert.equal(second.url, `${mock.url}/v1/workflows/w1/progress?ticket=ticket-2&after=7`);
  assert.ok(first.closed);
  assert.deepEqual(errors, [0, 0]);
  second.open();
  second.message('progress', { percentage: 50 }, '9');
  assert.equal(opens, 2);
  assert.deepEqual(events.at(-1), ['progress', { percentage: 50 }, '9']);

  // Closed for good without having opened (e.g. 403): reported, not retried.
  second.fail(2);
  await until(() => FakeEventSource.instances.length === 3, 'the third EventSource');
  const third = FakeEventSource.instances[2];
  assert.match(third.url, /\?ticket=ticket-3&after=9$/);
  third.fail(2);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(FakeEventSource.instances.length, 3, 'no retry loop for a stream that never opened');
  assert.deepEqual(errors, [0, 0, 0, 2]);
  sub.close();
  assert.ok(third.closed);
});

test('subscribeEvents goes without a ticket when the server gives an empty one, and reports a refused ticket', async (t) => {
  const open = await authServer({ emptyTicket: true });
  t.after(() => { open.close(); delete globalThis.EventSource; });
  globalThis.EventSource = FakeEventSource;
  FakeEventSource.instances = [];
  const client = new BatonClient(open.url, { token: 'good' });
  const sub = client.subscribeEvents('/v1/workflows?status=WORKFLOW_STATUS_RUNNING', () => {}, { types: ['workflow'] });
  await until(() => FakeEventSource.instances.length === 1, 'the EventSource');
  assert.equal(FakeEventSource.instances[0].url, `${open.url}/v1/workflows?status=WORKFLOW_STATUS_RUNNING`);
  assert.equal(sub.ticketed, false);
  // Without a ticket a closed stream is not reopened by the client.
  FakeEventSource.instances[0].open();
  FakeEventSource.instances[0].fail(2);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(FakeEventSource.instances.length, 1);
  sub.close();

  // No token on a server that wants one: the ticket call answers 401, the stream is never opened.
  const refused = [];
  const errors = [];
  const anonymous = new BatonClient(open.url, { onUnauthenticated: (error) => refused.push(error.code) });
  anonymous.subscribeEvents('/v1/workflows', () => {}, { onError: (error, readyState) => errors.push([error.code, readyState]) });
  await until(() => errors.length === 1, 'the refused ticket');
  assert.deepEqual(errors, [['unauthenticated', 2]]);
  assert.deepEqual(refused, ['unauthenticated']);
  assert.equal(FakeEventSource.instances.length, 1);

  // Closing before the ticket arrives opens nothing.
  const early = client.subscribeEvents('/v1/workflows', () => {});
  early.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(FakeEventSource.instances.length, 1);
});
