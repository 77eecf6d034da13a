// The Definitions pages: the list (with a form to register a definition) and one definition's
// source with a start form that validates the input JSON and opens the new run.

import { h, clear, parseTime, formatTime, jsonText, parseJSONInput, inputSkeleton, workflowHref, definitionHref } from '../util.js';
import { errorBox, statusLine, pageTitle, field, replace } from '../ui.js';

/**
 * Renders the list of definitions.
 * @param {object} ctx the router's page context
 */
export async function renderDefinitions(ctx) {
  const { client, root, signal } = ctx;
  ctx.setTitle('Definitions');
  const error = errorBox('definitions-error');
  const listHolder = h('div', { id: 'definitions-list' }, h('p', { class: 'loading' }, 'Loading…'));

  const load = async () => {
    error.clear();
    try {
      const reply = await client.listDefinitions({}, { signal });
      const definitions = reply.definitions || [];
      if (!definitions.length) {
        replace(listHolder, h('p', { class: 'empty' }, 'No definitions yet: register one below, or start the server with ', h('code', null, 'baton dev'), '.'));
        return;
      }
      replace(listHolder, h('div', { class: 'table-wrap' }, h('table', { id: 'definitions-table' },
        h('caption', { class: 'visually-hidden' }, 'Definitions with their latest version'),
        h('thead', null, h('tr', null, ['Definition', 'Latest version', 'Runs'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', null, definitions.map((def) => h('tr', { dataset: { definition: def.name } },
          h('th', { scope: 'row' }, h('a', { href: definitionHref(def.name), class: 'mono' }, def.name)),
          h('td', { class: 'num' }, String(def.version || '?')),
          h('td', null, h('a', { href: `#/workflows?definition=${encodeURIComponent(def.name)}` }, 'Runs'))))))));
    } catch (err) {
      if (!signal.aborted) { error.show(err); replace(listHolder); }
    }
  };

  const source = h('textarea', { id: 'register-source', name: 'source', rows: 10, class: 'mono', spellcheck: 'false', required: true,
    placeholder: 'name: hello\nsteps:\n  greet: { activity: builtin.echo, input: { who: "${input.who}" } }' });
  const registerError = errorBox('register-error');
  const registered = statusLine('register-message');
  const submit = h('button', { type: 'submit', id: 'register-submit', class: 'primary' }, 'Register');
  const form = h('form', { id: 'register-form', class: 'card stack', 'aria-labelledby': 'register-heading' },
    h('h2', { id: 'register-heading' }, 'Register a definition'),
    field('Source (YAML or JSON)', source, 'The same content under the same name returns the existing version; changed content creates the next one.'),
    registerError.element, registered.element,
    h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    registerError.clear();
    registered.say('');
    submit.disabled = true;
    try {
      const reply = await client.registerDefinition({ source: source.value }, { signal });
      const def = reply.definition || {};
      registered.say(`${def.name}@${def.version} ${reply.created ? 'registered' : 'was already registered'}.`);
      ctx.announce(`Definition ${def.name} version ${def.version} ${reply.created ? 'registered' : 'unchanged'}`);
      await load();
    } catch (err) {
      if (!signal.aborted) registerError.show(err);
    } finally {
      submit.disabled = false;
    }
  });

  root.append(pageTitle('Definitions'), error.element, listHolder, form);
  await load();
}

/**
 * Renders one definition: its source, its versions and a start form.
 * @param {object} ctx the router's page context; `ctx.params[0]` is the name, `?version=` picks one
 */
export async function renderDefinition(ctx) {
  const { client, root, signal } = ctx;
  const name = ctx.params[0];
  const requested = Number(ctx.query.get('version') || 0);
  ctx.setTitle(`Definition ${name}`);

  let reply;
  try {
    reply = await client.getDefinition({ name, version: requested }, { signal });
  } catch (err) {
    if (signal.aborted) return;
    root.append(pageTitle(name),
      h('div', { id: 'definition-error', class: 'message message-error', role: 'alert' },
        err.code === 'not_found' ? `There is no definition ${name}${requested ? ` version ${requested}` : ''}.` : `Cannot load ${name}: ${err.message} (${err.code})`),
      h('p', null, h('a', { href: '#/definitions' }, 'Back to the definitions')));
    return;
  }
  const def = reply.definition || { name, version: requested };
  const version = def.version || requested;

  // Versions 1..latest: the latest comes from ListDefinitions (GetDefinition returns one version).
  const versionSelect = h('select', { id: 'definition-version', name: 'version' }, h('option', { value: version, selected: true }, `version ${version}`));
  client.listDefinitions({}, { signal }).then((list) => {
    const latest = (list.definitions || []).find((entry) => entry.name === name)?.version || version;
    clear(versionSelect);
    for (let v = latest; v >= 1; v--) versionSelect.append(h('option', { value: v, selected: v === version }, `version ${v}${v === latest ? ' (latest)' : ''}`));
  }).catch(() => { /* keep the one version */ });
  versionSelect.addEventListener('change', () => ctx.navigate(definitionHref(name, Number(versionSelect.value))));

  const sourceBlock = h('pre', { id: 'definition-source', class: 'source', tabindex: 0, 'aria-label': `Source of ${name} version ${version}` }, reply.source || '');

  // ---- start form ----
  const skeleton = inputSkeleton(reply.source);
  const input = h('textarea', { id: 'start-input', name: 'input', rows: 6, class: 'mono', spellcheck: 'false', 'aria-describedby': 'start-input-error' },
    jsonText(skeleton));
  const inputError = h('small', { id: 'start-input-error', class: 'field-error', 'aria-live': 'polite' });
  const idInput = h('input', { id: 'start-workflow-id', name: 'workflowId', type: 'text', autocomplete: 'off', spellcheck: 'false',
    maxlength: 200, pattern: '[\\x21-\\x2E\\x30-\\x7E]+', placeholder: 'generated when empty' });
  const pinned = h('input', { id: 'start-pinned', name: 'pinned', type: 'checkbox' });
  const startError = errorBox('start-error');
  const submit = h('button', { type: 'submit', id: 'start-submit', class: 'primary' }, 'Start run');
  const validate = () => {
    const parsed = parseJSONInput(input.value, { allowEmpty: true });
    inputError.textContent = parsed.ok ? '' : parsed.error;
    input.setAttribute('aria-invalid', String(!parsed.ok));
    submit.disabled = !parsed.ok;
    return parsed;
  };
  input.addEventListener('input', validate);

  const form = h('form', { id: 'start-form', class: 'card stack', 'aria-labelledby': 'start-heading', novalidate: true },
    h('h2', { id: 'start-heading' }, 'Start a run'),
    h('div', { class: 'field' }, h('label', { for: 'start-input' }, 'Input (JSON)'), input, inputError),
    field('Workflow id (optional)', idInput, 'Up to 200 printable ASCII characters, no "/". Starting an open run\'s id returns that run.'),
    h('div', { class: 'field field-inline' }, pinned, h('label', { for: 'start-pinned' }, `Pin to version ${version} (else the latest)`)),
    startError.element,
    h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    startError.clear();
    const parsed = validate();
    if (!parsed.ok) { input.focus(); return; }
    const id = idInput.value.trim();
    if (id && (id.includes('/') || id.length > 200 || !/^[\x21-\x7e]+$/.test(id))) {
      startError.show(new Error('The workflow id must be up to 200 printable ASCII characters without "/".'));
      idInput.focus();
      return;
    }
    submit.disabled = true;
    try {
      const request = { definition: name };
      if (pinned.checked || requested) request.version = version;
      if (id) request.workflowId = id;
      if (parsed.value !== undefined) request.input = parsed.value;
      const started = await client.startWorkflow(request, { signal });
      ctx.announce(started.started === false ? `Run ${started.workflowId} already exists; opening it.` : `Started ${started.workflowId}.`);
      ctx.navigate(workflowHref(started.workflowId));
    } catch (err) {
      if (!signal.aborted) startError.show(err);
      submit.disabled = false;
    }
  });

  const created = parseTime(reply.createTime);
  root.append(
    pageTitle(`${def.name || name}`, h('span', { class: 'badge badge-version' }, `v${version}`)),
    h('p', { class: 'meta' }, created !== null ? `Registered ${formatTime(created)} · ` : '',
      h('a', { href: `#/workflows?definition=${encodeURIComponent(name)}` }, 'Runs of this definition'), ' · ',
      h('a', { href: '#/definitions' }, 'All definitions')),
    h('div', { class: 'def-layout' },
      form,
      h('section', { class: 'card', 'aria-labelledby': 'source-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'source-heading' }, 'Source'), field('Version', versionSelect)),
        sourceBlock)));
  validate();
}
