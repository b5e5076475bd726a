// Live server-rendered fragments: elements marked with an event's name take the HTML the web
// app rendered for each change (`meta.fragment`), with no page JavaScript (docs/fragments.rst).
//
//   <tbody data-telegraphy-fragment="shop.Order" data-telegraphy-action="append">
//     <tr data-telegraphy-object="5">...</tr>
//
// Only the server's fragment is ever parsed as HTML, never event data, and never a channel
// message (browsers may publish those). Parsing goes through an inert <template>: scripts in
// a fragment do not run.

import type { TEvent } from './subscription';

export const FRAGMENT_ATTRIBUTE = 'data-telegraphy-fragment';
export const ACTION_ATTRIBUTE = 'data-telegraphy-action';
export const OBJECT_ATTRIBUTE = 'data-telegraphy-object';
const HTMX_SCOPE = '[hx-ext*="telegraphy"],[data-hx-ext*="telegraphy"]';

/** What the server sends in `meta.fragment`: no `html` for a delete. */
export interface Fragment {
  object: string;
  audience?: string;
  html?: string;
}

/** One change to the page: insert `node` into `target`, replace `target` with it, or remove it. */
export type Change =
  | { kind: 'insert'; target: Element; at: 'beforeend' | 'afterbegin'; node: Element }
  | { kind: 'replace'; target: Element; node: Element }
  | { kind: 'remove'; target: Element };

/** The event's fragment, if it carries a well-formed one from the web app. */
export function fragmentOf(event: TEvent): Fragment | null {
  const meta = event?.meta;
  const fragment = meta?.fragment as Fragment | undefined;
  if (!fragment || typeof fragment !== 'object' || meta.channel !== undefined) return null;
  if (typeof fragment.object !== 'string') return null;
  if (fragment.html !== undefined && typeof fragment.html !== 'string') return null;
  return fragment;
}

/** The elements under `root` marked for fragments: those an htmx extension drives (`htmx`)
 * or those the client drives itself. */
export function markedElements(root: ParentNode, htmx = false): Element[] {
  const all = Array.from(root.querySelectorAll(`[${FRAGMENT_ATTRIBUTE}]`));
  if (root instanceof Element && root.hasAttribute(FRAGMENT_ATTRIBUTE)) all.unshift(root);
  return all.filter((element) => (element.closest(HTMX_SCOPE) !== null) === htmx);
}

/** What `event`'s fragment changes under `root` (nothing if it carries none). */
export function changesFor(root: ParentNode, event: TEvent, htmx = false): Change[] {
  const fragment = fragmentOf(event);
  if (!fragment) return [];
  const removed = event.meta.event_type === 'delete' || fragment.html === undefined;
  const changes: Change[] = [];
  for (const element of markedElements(root, htmx)) {
    if (element.getAttribute(FRAGMENT_ATTRIBUTE) !== event.name) continue;
    const change = changeOf(element, fragment, removed);
    if (change) changes.push(change);
  }
  return changes;
}

function changeOf(element: Element, fragment: Fragment, removed: boolean): Change | null {
  const action = element.getAttribute(ACTION_ATTRIBUTE) || 'append';
  if (action === 'append' || action === 'prepend') {
    const current = childFor(element, fragment.object);
    if (removed) return current ? { kind: 'remove', target: current } : null;
    const node = parse(element, fragment);
    if (!node) return null;
    if (current) return { kind: 'replace', target: current, node };
    return { kind: 'insert', target: element, at: action === 'append' ? 'beforeend' : 'afterbegin', node };
  }
  if (element.getAttribute(OBJECT_ATTRIBUTE) !== fragment.object) return null;
  if (removed) return { kind: 'remove', target: element };
  const node = action === 'replace' ? parse(element, fragment) : null;
  if (!node) return null;
  // The replacement stands for the same object: it stays marked, for the next change.
  for (const name of ['id', FRAGMENT_ATTRIBUTE, ACTION_ATTRIBUTE]) {
    const value = element.getAttribute(name);
    if (value !== null) node.setAttribute(name, value);
  }
  return { kind: 'replace', target: element, node };
}

function childFor(element: Element, object: string): Element | null {
  for (const child of Array.from(element.children)) {
    if (child.getAttribute(OBJECT_ATTRIBUTE) === object) return child;
  }
  return null;
}

/** The fragment's one root element, named after its object; null if it has not exactly one. */
function parse(near: Element, fragment: Fragment): Element | null {
  const template = near.ownerDocument.createElement('template');
  template.innerHTML = fragment.html ?? '';
  const content = template.content;
  if (content.childElementCount !== 1) return null;
  const node = content.firstElementChild as Element;
  node.setAttribute(OBJECT_ATTRIBUTE, fragment.object);
  return node;
}

/** Applies `event`'s fragment to the marked elements under `root`; how many changed. */
export function applyFragment(root: ParentNode, event: TEvent): number {
  const changes = changesFor(root, event);
  for (const change of changes) {
    if (change.kind === 'remove') change.target.remove();
    else if (change.kind === 'replace') change.target.replaceWith(change.node);
    else change.target.insertAdjacentElement(change.at, change.node);
  }
  return changes.length;
}

interface Registrar {
  register(name: string, handler: (event: TEvent) => void): unknown;
}

/** Registers `handler` with `client` for each event name marked under `root`, now and as
 * marked elements are added later (names already registered are not registered again). */
export function watchMarked(
  client: Registrar,
  root: Document,
  handler: (event: TEvent) => void,
  htmx = false,
): void {
  const names = new Set<string>();
  const scan = (under: ParentNode) => {
    for (const element of markedElements(under, htmx)) {
      const name = element.getAttribute(FRAGMENT_ATTRIBUTE) as string;
      if (!names.has(name)) names.add(name), client.register(name, handler);
    }
  };
  scan(root);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of Array.from(record.addedNodes)) if (node instanceof Element) scan(node);
    }
  }).observe(root, { childList: true, subtree: true });
}

/** Keeps the marked elements of `root` up to date with `client`'s events: the script-tag
 * build calls this for the page. */
export function liveFragments(client: Registrar, root: Document): void {
  watchMarked(client, root, (event) => applyFragment(root, event));
}
