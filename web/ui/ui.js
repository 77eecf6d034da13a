// DOM widgets shared by the pages: status badges, a confirmation dialog, message boxes, JSON
// blocks and tables.

import { h, clear, statusName, statusLabel, jsonText } from './util.js';

/**
 * A badge naming a status, coloured by its status name (`.status-<name>`).
 * @param {string} status an enum value, e.g. "WORKFLOW_STATUS_RUNNING"
 * @returns {HTMLElement}
 */
export function statusBadge(status) {
  const name = statusName(status);
  return h('span', { class: ['badge', `status-${name}`], dataset: { status: name }, text: statusLabel(status) });
}

/**
 * A box showing an error message (role=alert), empty and hidden until `show` is called.
 * @param {string} id the element id (tests and labels refer to it)
 * @returns {{element: HTMLElement, show: (error: unknown) => void, clear: () => void}}
 */
export function errorBox(id) {
  const element = h('div', { id, class: 'message message-error', role: 'alert', hidden: true });
  return {
    element,
    show(error) {
      const code = error && error.code ? ` (${error.code})` : '';
      element.textContent = `${error && error.message ? error.message : String(error)}${code}`;
      element.hidden = false;
    },
    clear() {
      element.textContent = '';
      element.hidden = true;
    },
  };
}

/**
 * A polite status line (role=status) for confirmations such as "Signal sent".
 * @param {string} id
 * @returns {{element: HTMLElement, say: (text: string) => void}}
 */
export function statusLine(id) {
  const element = h('p', { id, class: 'message message-ok', role: 'status' });
  return { element, say(text) { element.textContent = text; } };
}

/** A <pre> holding pretty-printed JSON. */
export function jsonBlock(value, props = {}) {
  return h('pre', { class: 'json', tabindex: 0, ...props }, jsonText(value));
}

let dialogCounter = 0;

/**
 * Asks for confirmation in a modal dialog. Resolves to `{confirmed, reason}`; Escape or the
 * Cancel button resolve with `confirmed: false`.
 * @param {{title: string, message: string, confirmLabel?: string, danger?: boolean, withReason?: boolean}} options
 * @returns {Promise<{confirmed: boolean, reason: string}>}
 */
export function confirmDialog(options) {
  const id = `dialog-${++dialogCounter}`;
  const reason = h('input', { id: `${id}-reason`, name: 'reason', type: 'text', autocomplete: 'off', placeholder: 'optional' });
  const confirm = h('button', { type: 'submit', value: 'confirm', class: options.danger ? 'danger' : 'primary', dataset: { action: 'confirm' } },
    options.confirmLabel || 'Confirm');
  const cancel = h('button', { type: 'submit', value: 'cancel', formnovalidate: true, dataset: { action: 'cancel' } }, 'Keep running');
  const dialog = h('dialog', { id: 'confirm-dialog', class: 'dialog', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-message` },
    h('form', { method: 'dialog' },
      h('h2', { id: `${id}-title` }, options.title),
      h('p', { id: `${id}-message` }, options.message),
      options.withReason ? h('p', { class: 'field' }, h('label', { for: `${id}-reason` }, 'Reason'), reason) : null,
      h('div', { class: 'dialog-buttons' }, cancel, confirm)));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'confirm';
      dialog.remove();
      resolve({ confirmed, reason: reason.value.trim() });
    }, { once: true });
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * A labelled form field. `control` is the input element (it needs an id).
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null);
}

/** Replaces the content of `node` with `children`. */
export function replace(node, ...children) {
  clear(node);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** A page heading that receives focus after navigation. */
export function pageTitle(text, ...extra) {
  return h('div', { class: 'page-title' }, h('h1', { tabindex: -1 }, text), ...extra);
}
