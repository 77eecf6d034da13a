// End-to-end test of clients/web/baton.js against a live Baton server (Connect over HTTP/1.1):
//
//   BATON_URL=http://127.0.0.1:PORT node Tests/e2e/web_client_test.mjs
//
// Registers a definition, starts runs, follows their progress and history streams, signals,
// terminates, lists, reads admin information, checks error codes, aborts a stream and times one
// out. Prints one line per check and "web client: N passed, M failed"; exits non-zero on any
// failure, and on its own after 60 s.

import assert from 'node:assert/strict';
import { BatonClient, BatonError } from '../../clients/web/baton.js';

const OVERALL_TIMEOUT_MS = 60000;
const BASE = process.env.BATON_URL;
if (!BASE) {
  console.error('web client: BATON_URL is not set (e.g. BATON_URL=http://127.0.0.1:7233)');
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`web client: FAILED — the test did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);
watchdog.unref();

const client = new BatonClient(BASE, { timeoutMs: 10000 });
const suffix = `${Date.now().toString(36)}-${process.pid}`;
const DEFINITION = 'web_client_echo';
const SOURCE = `
name: ${DEFINITION}
description: The web client's end-to-end test; one echo step and one short simulated step.
steps:
  echo: { activity: builtin.echo, input: { n: "\${input.n}", who: "\${input.who}" } }
  pause:
    depends_on: [echo]
    activity: builtin.simulate
    input: { duration: 300ms, output: { n: "\${steps.echo.output.n}" } }
output: { n: "\${steps.pause.output.n}", who: "\${steps.echo.output.who}" }
`;
const WAITING = 'web_client_wait';
const WAITING_SOURCE = `
name: ${WAITING}
steps:
  first: { activity: builtin.echo, input: { x: 1 } }
  gate:
    depends_on: [first]
    wait_for_signal: { name: open_gate, timeout: 1h, on_timeout: fail }
output: { opened: "\${steps.gate.signal.ok}" }
`;

let passed = 0;
let failed = 0;
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL - ${name}: ${error instanceof BatonError ? `BatonError ${error.code}: ${error.message}` : error.stack || error}`);
  }
}

/** Follows StreamProgress to its end (bounded) and returns every message. */
async function followProgress(workflowId, timeoutMs = 20000) {
  const messages = [];
  for await (const progress of client.streamProgress({ workflowId }, { timeoutMs })) messages.push(progress);
  return messages;
}

async function expectCode(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof BatonError, `expected a BatonError, got ${error}`);
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
    assert.equal(typeof error.message, 'string');
    return true;
  });
}

const runId = `web-client-${suffix}`;
const waitId = `web-client-wait-${suffix}`;
const termId = `web-client-term-${suffix}`;

await check('registerDefinition accepts YAML and returns name and version', async () => {
  const reply = await client.registerDefinition({ source: SOURCE });
  assert.equal(reply.definition.name, DEFINITION);
  assert.ok(reply.definition.version >= 1, JSON.stringify(reply));
  const again = await client.registerDefinition({ source: SOURCE });
  assert.equal(again.definition.version, reply.definition.version);
  assert.notEqual(again.created, true, 'identical content is not a new version');
  await client.registerDefinition({ source: WAITING_SOURCE });
});

await check('registerDefinition of a broken definition is invalid_argument', async () => {
  await expectCode(client.registerDefinition({ source: 'name: broken\nsteps:\n  a: { activity: builtin.echo, depends_on: [nowhere] }\n' }), 'invalid_argument');
});

await check('getDefinition and listDefinitions', async () => {
  const got = await client.getDefinition({ name: DEFINITION });
  assert.equal(got.definition.name, DEFINITION);
  assert.match(got.source, /builtin\.echo/);
  const list = await client.listDefinitions({});
  assert.ok((list.definitions || []).some((def) => def.name === DEFINITION), JSON.stringify(list));
  await expectCode(client.getDefinition({ name: `no_such_definition_${suffix}` }), 'not_found');
});

let progressMessages = [];
await check('startWorkflow, then streamProgress to the end of the run', async () => {
  const started = await client.startWorkflow({ definition: DEFINITION, workflowId: runId, input: { n: 7, who: 'web' } });
  assert.equal(started.workflowId, runId);
  assert.equal(started.started, true);
  assert.equal(started.definition.name, DEFINITION);
  progressMessages = await followProgress(runId);
  assert.ok(progressMessages.length >= 1, 'at least the snapshot');
  const last = progressMessages.at(-1);
  assert.equal(last.workflowId, runId);
  assert.equal(last.status, 'WORKFLOW_STATUS_COMPLETED', JSON.stringify(last));
  assert.equal(Math.round(last.percentage), 100);
  for (let i = 1; i < progressMessages.length; i++) {
    assert.ok(Number(progressMessages[i].eventId) >= Number(progressMessages[i - 1].eventId), 'event ids never go back');
  }
});

await check('describeWorkflow shows the output and every step', async () => {
  const { workflow } = await client.describeWorkflow({ workflowId: runId });
  assert.equal(workflow.info.workflowId, runId);
  assert.equal(workflow.info.status, 'WORKFLOW_STATUS_COMPLETED');
  assert.deepEqual(workflow.output, { n: 7, who: 'web' });
  assert.deepEqual(workflow.input, { n: 7, who: 'web' });
  assert.deepEqual(workflow.steps.map((step) => [step.name, step.status]),
    [['echo', 'STEP_STATUS_COMPLETED'], ['pause', 'STEP_STATUS_COMPLETED']]);
  const pause = workflow.steps.find((step) => step.name === 'pause');
  if (pause.dependsOn !== undefined) assert.deepEqual(pause.dependsOn, ['echo']);
  assert.ok(workflow.info.startTime && workflow.info.closeTime, 'start and close times');
});

await check('query answers progress and output', async () => {
  const progress = await client.query({ workflowId: runId, query: 'progress' });
  assert.ok(progress.result !== undefined);
  const output = await client.query({ workflowId: runId, query: 'output' });
  assert.deepEqual(output.result, { n: 7, who: 'web' });
});

await check('getHistory pages through the whole history', async () => {
  const events = [];
  let pageToken = '';
  for (let page = 0; page < 50; page++) {
    const reply = await client.getHistory({ workflowId: runId, pageSize: 3, pageToken });
    events.push(...(reply.events || []));
    pageToken = reply.nextPageToken || '';
    if (!pageToken) break;
  }
  assert.deepEqual(events.map((event) => Number(event.eventId)), events.map((_, i) => i + 1));
  assert.equal(events[0].type, 'WorkflowStarted');
  assert.equal(events[0].workflowStarted.definition, DEFINITION);
  assert.equal(events.at(-1).type, 'WorkflowCompleted');
  assert.deepEqual(events.at(-1).workflowCompleted.output, { n: 7, who: 'web' });
});

await check('watchHistory of a closed run replays every event and ends', async () => {
  const events = [];
  for await (const event of client.watchHistory({ workflowId: runId }, { timeoutMs: 10000 })) events.push(event);
  assert.equal(events[0].type, 'WorkflowStarted');
  assert.equal(events.at(-1).type, 'WorkflowCompleted');
  const after = [];
  for await (const event of client.watchHistory({ workflowId: runId, afterEventId: String(events.length - 1) }, { timeoutMs: 10000 })) after.push(event);
  assert.deepEqual(after.map((event) => event.type), ['WorkflowCompleted']);
});

await check('listWorkflows finds the run by definition and by status', async () => {
  const byDefinition = await client.listWorkflows({ definition: DEFINITION, pageSize: 100 });
  const found = (byDefinition.workflows || []).find((info) => info.workflowId === runId);
  assert.ok(found, JSON.stringify(byDefinition));
  assert.equal(found.status, 'WORKFLOW_STATUS_COMPLETED');
  assert.equal(found.definition.name, DEFINITION);
  const completed = await client.listWorkflows({ status: 'WORKFLOW_STATUS_COMPLETED', definition: DEFINITION });
  assert.ok((completed.workflows || []).every((info) => info.status === 'WORKFLOW_STATUS_COMPLETED'));
  const running = await client.listWorkflows({ status: 'WORKFLOW_STATUS_RUNNING', definition: DEFINITION });
  assert.ok(!(running.workflows || []).some((info) => info.workflowId === runId));
});

await check('getServerInfo and listCircuitBreakers', async () => {
  const info = await client.getServerInfo({});
  assert.equal(typeof info.version, 'string');
  assert.ok(info.version.length > 0, JSON.stringify(info));
  assert.ok(['full', 'normal'].includes(info.durability), JSON.stringify(info));
  const breakers = await client.listCircuitBreakers({});
  assert.ok(Array.isArray(breakers.breakers ?? []), JSON.stringify(breakers));
  await expectCode(client.resetCircuitBreaker({ key: `no-such-breaker-${suffix}` }), 'not_found');
});

await check('describing an unknown run is not_found', async () => {
  await expectCode(client.describeWorkflow({ workflowId: `does-not-exist-${suffix}` }), 'not_found');
  await expectCode((async () => { for await (const _ of client.streamProgress({ workflowId: `does-not-exist-${suffix}` }, { timeoutMs: 5000 })) { /* none */ } })(), 'not_found');
});

await check('a progress stream can be aborted with an AbortController', async () => {
  await client.startWorkflow({ definition: WAITING, workflowId: waitId, input: {} });
  const controller = new AbortController();
  const seen = [];
  const started = Date.now();
  await assert.rejects((async () => {
    for await (const progress of client.streamProgress({ workflowId: waitId }, { signal: controller.signal })) {
      seen.push(progress);
      if (seen.length === 1) setTimeout(() => controller.abort(), 100);
    }
  })(), (error) => error instanceof BatonError && error.code === 'canceled');
  assert.ok(seen.length >= 1, 'the snapshot arrived before the abort');
  assert.equal(seen[0].workflowId, waitId);
  assert.ok(Date.now() - started < 5000, 'the abort ended the stream promptly');
});

await check('a stream times out with deadline_exceeded (connect-timeout-ms)', async () => {
  const started = Date.now();
  await expectCode((async () => { for await (const _ of client.watchHistory({ workflowId: waitId }, { timeoutMs: 500 })) { /* past events */ } })(), 'deadline_exceeded');
  assert.ok(Date.now() - started < 5000);
});

await check('signal completes a waiting run, seen live on watchHistory', async () => {
  const types = [];
  const watching = (async () => {
    for await (const event of client.watchHistory({ workflowId: waitId }, { timeoutMs: 20000 })) types.push(event.type);
  })();
  const reply = await client.signal({ workflowId: waitId, name: 'open_gate', payload: { ok: true }, requestId: `gate-${suffix}` });
  assert.equal(reply.accepted, true);
  const repeat = await client.signal({ workflowId: waitId, name: 'open_gate', payload: { ok: true }, requestId: `gate-${suffix}` }).catch((error) => error);
  // Open or already closed, the repeat is answered "not applied again" (accepted is false, so absent in JSON).
  assert.ok(!(repeat instanceof BatonError) && !repeat.accepted, `a repeated request id is ignored: ${repeat}`);
  await watching;
  assert.ok(types.includes('SignalReceived'), types.join(','));
  assert.equal(types.at(-1), 'WorkflowCompleted');
  const { workflow } = await client.describeWorkflow({ workflowId: waitId });
  assert.deepEqual(workflow.output, { opened: true });
  await expectCode(client.signal({ workflowId: waitId, name: 'open_gate', payload: {} }), 'failed_precondition');
});

await check('terminateWorkflow stops a run for good', async () => {
  await client.startWorkflow({ definition: WAITING, workflowId: termId });
  await client.terminateWorkflow({ workflowId: termId, reason: 'web client test' });
  const messages = await followProgress(termId, 10000);
  assert.equal(messages.at(-1).status, 'WORKFLOW_STATUS_TERMINATED');
  const { workflow } = await client.describeWorkflow({ workflowId: termId });
  assert.equal(workflow.info.status, 'WORKFLOW_STATUS_TERMINATED');
  // Cancelling a closed run is refused (FAILED_PRECONDITION) or, at most, a no-op.
  const late = await client.cancelWorkflow({ workflowId: termId }).catch((error) => error);
  if (late instanceof Error) assert.equal(late.code, 'failed_precondition', late.message);
  assert.equal((await client.describeWorkflow({ workflowId: termId })).workflow.info.status, 'WORKFLOW_STATUS_TERMINATED');
});

await check('issueStreamTicket on a server without an auth file answers an empty ticket', async () => {
  const reply = await client.issueStreamTicket({});
  assert.ok(!reply.ticket, `an open server needs no ticket: ${JSON.stringify(reply)}`);
  // A token the open server does not check goes along unharmed.
  const withToken = new BatonClient(BASE, { timeoutMs: 10000, token: 'not-checked-here' });
  assert.ok(Array.isArray((await withToken.listDefinitions({})).definitions));
});

clearTimeout(watchdog);
console.log(`web client: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
