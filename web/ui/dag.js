// The step graph: a layered layout computed from each step's `dependsOn` and drawn as SVG, nodes
// coloured by status (`data-status` carries the status name), with attempt counts and
// compensation marks. `layoutDag` is pure (unit-tested under Node); `renderDag` needs a DOM.

import { s, statusName, statusLabel } from './util.js';

/** Geometry of the drawing, in SVG user units. */
export const DAG_GEOMETRY = Object.freeze({ nodeWidth: 164, nodeHeight: 50, columnGap: 34, rowGap: 16, margin: 12 });

/**
 * Assigns each step a layer (its longest dependency chain: a step without dependencies is in
 * layer 0, any other one layer after its deepest dependency) and an order within the layer that
 * keeps edges short (barycentre of the dependencies' positions, definition order breaking ties).
 * Unknown dependencies are ignored; a cycle (never valid in a definition) is cut where found.
 * @param {Array<{name: string, dependsOn?: string[]}>} steps in definition order
 * @returns {{layers: string[][], layerOf: Map<string, number>, edges: Array<[string, string]>}}
 *   `edges` go from a dependency to its dependent
 */
export function layoutDag(steps) {
  const byName = new Map();
  (steps || []).forEach((step, index) => byName.set(step.name, { step, index }));
  const layerOf = new Map();
  const visiting = new Set();
  const depsOf = (name) => (byName.get(name)?.step.dependsOn || []).filter((dep) => byName.has(dep) && dep !== name);

  const layer = (name) => {
    if (layerOf.has(name)) return layerOf.get(name);
    if (visiting.has(name)) return 0; // a cycle: cut here
    visiting.add(name);
    let value = 0;
    for (const dep of depsOf(name)) value = Math.max(value, layer(dep) + 1);
    visiting.delete(name);
    layerOf.set(name, value);
    return value;
  };
  for (const name of byName.keys()) layer(name);

  const layers = [];
  for (const [name] of byName) {
    const index = layerOf.get(name);
    (layers[index] = layers[index] || []).push(name);
  }
  for (let i = 0; i < layers.length; i++) layers[i] = layers[i] || [];

  // One downward sweep of the barycentre heuristic.
  const position = new Map();
  layers[0]?.forEach((name, i) => position.set(name, i));
  for (let i = 1; i < layers.length; i++) {
    const keyed = layers[i].map((name) => {
      const deps = depsOf(name).filter((dep) => position.has(dep));
      const centre = deps.length ? deps.reduce((sum, dep) => sum + position.get(dep), 0) / deps.length : Infinity;
      return { name, centre, index: byName.get(name).index };
    });
    keyed.sort((a, b) => (a.centre === b.centre ? a.index - b.index : a.centre - b.centre));
    layers[i] = keyed.map((entry) => entry.name);
    layers[i].forEach((name, j) => position.set(name, j));
  }

  const edges = [];
  for (const [name] of byName) for (const dep of depsOf(name)) edges.push([dep, name]);
  return { layers, layerOf, edges };
}

/**
 * Positions of every node for a layout: layers are columns (left to right), each column centred
 * vertically against the tallest one.
 * @param {{layers: string[][]}} layout
 * @param {typeof DAG_GEOMETRY} [geometry]
 * @returns {{width: number, height: number, nodes: Map<string, {x: number, y: number}>}}
 */
export function placeNodes(layout, geometry = DAG_GEOMETRY) {
  const { nodeWidth, nodeHeight, columnGap, rowGap, margin } = geometry;
  const tallest = Math.max(1, ...layout.layers.map((layer) => layer.length));
  const height = margin * 2 + tallest * nodeHeight + (tallest - 1) * rowGap;
  const width = margin * 2 + Math.max(1, layout.layers.length) * nodeWidth + Math.max(0, layout.layers.length - 1) * columnGap;
  const nodes = new Map();
  layout.layers.forEach((layer, column) => {
    const columnHeight = layer.length * nodeHeight + Math.max(0, layer.length - 1) * rowGap;
    const top = (height - columnHeight) / 2;
    layer.forEach((name, row) => {
      nodes.set(name, { x: margin + column * (nodeWidth + columnGap), y: top + row * (nodeHeight + rowGap) });
    });
  });
  return { width, height, nodes };
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The second line of a node: status, attempts, compensation. */
export function nodeCaption(step, compensation) {
  const parts = [statusLabel(step.status)];
  const attempts = Number(step.attempts || 0);
  if (attempts > 1) parts.push(`${attempts} attempts`);
  if (compensation === 'compensating') parts.push('↺ compensating');
  else if (compensation === 'failed') parts.push('↺ comp. failed');
  else if (compensation === 'compensated' && step.status !== 'STEP_STATUS_COMPENSATED') parts.push('↺ compensated');
  return parts.join(' · ');
}

/**
 * Draws the graph of a run's steps.
 * @param {Array<{name: string, dependsOn?: string[], status?: string, attempts?: number, kind?: string}>} steps
 * @param {{compensations?: Map<string, string>, onSelect?: (name: string) => void}} [options]
 *   `compensations`: step → "compensating" | "compensated" | "failed" (from the history)
 * @returns {SVGSVGElement}
 */
export function renderDag(steps, options = {}) {
  const geometry = DAG_GEOMETRY;
  const layout = layoutDag(steps);
  const { width, height, nodes } = placeNodes(layout, geometry);
  const compensations = options.compensations || new Map();
  const byName = new Map(steps.map((step) => [step.name, step]));

  const svg = s('svg', {
    class: 'dag', viewBox: `0 0 ${width} ${height}`, width, height, role: 'group',
    'aria-label': `Step graph: ${steps.length} steps in ${layout.layers.length} layers`,
  });
  svg.append(s('defs', null,
    s('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'dag-arrowhead' }))));

  const edgeGroup = s('g', { class: 'dag-edges', 'aria-hidden': 'true' });
  for (const [from, to] of layout.edges) {
    const a = nodes.get(from);
    const b = nodes.get(to);
    const x1 = a.x + geometry.nodeWidth;
    const y1 = a.y + geometry.nodeHeight / 2;
    const x2 = b.x - 2;
    const y2 = b.y + geometry.nodeHeight / 2;
    const bend = Math.max(20, (x2 - x1) / 2);
    const done = ['STEP_STATUS_COMPLETED', 'STEP_STATUS_SKIPPED', 'STEP_STATUS_COMPENSATED'].includes(byName.get(from)?.status);
    edgeGroup.append(s('path', {
      class: ['dag-edge', done && 'dag-edge-done'], d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
      'marker-end': 'url(#dag-arrow)', dataset: { from, to },
    }));
  }
  svg.append(edgeGroup);

  const nodeGroup = s('g', { class: 'dag-nodes' });
  for (const step of steps) {
    const { x, y } = nodes.get(step.name);
    const status = statusName(step.status);
    const compensation = compensations.get(step.name);
    const caption = nodeCaption(step, compensation);
    const label = `${step.name}: ${caption}${step.kind && step.kind !== 'activity' ? ` (${step.kind.replace(/_/g, ' ')})` : ''}` +
      `${step.compensationActivity ? `; compensated by ${step.compensationActivity}` : ''}`;
    const node = s('g', {
      class: ['dag-node', `status-${status}`, compensation && `compensation-${compensation}`],
      transform: `translate(${x} ${y})`, role: 'img', 'aria-label': label,
      dataset: { step: step.name, status, attempts: String(step.attempts || 0), ...(compensation ? { compensation } : {}) },
    });
    node.append(s('title', { text: label }));
    node.append(s('rect', { class: 'dag-box', width: geometry.nodeWidth, height: geometry.nodeHeight, rx: 8, ry: 8 }));
    node.append(s('rect', { class: 'dag-stripe', width: 6, height: geometry.nodeHeight, rx: 3, ry: 3 }));
    node.append(s('text', { class: 'dag-name', x: 14, y: 20, text: truncate(step.name, 21) }));
    node.append(s('text', { class: 'dag-caption', x: 14, y: 37, text: truncate(caption, 24) }));
    if (step.kind === 'wait_for_signal' || step.kind === 'sleep') {
      node.append(s('text', { class: 'dag-kind', x: geometry.nodeWidth - 8, y: 18, 'text-anchor': 'end', text: step.kind === 'sleep' ? '⏲' : '✉' }));
    }
    if (options.onSelect) {
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      node.addEventListener('click', () => options.onSelect(step.name));
      node.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); options.onSelect(step.name); }
      });
    }
    nodeGroup.append(node);
  }
  svg.append(nodeGroup);
  return svg;
}
