// telegraphy-htmx: the htmx (2.x) extension `hx-ext="telegraphy"`. Elements in its scope marked
// with an event's name take the web app's fragments through htmx's out-of-band swaps, so htmx
// processes what arrives (its hx-* attributes work, its swap events fire). Load it after htmx
// and the Telegraphy client; it uses the page's default client (docs/fragments.rst).

import { type Change, changesFor, FRAGMENT_ATTRIBUTE, OBJECT_ATTRIBUTE, watchMarked } from './fragments';
import type { TEvent } from './subscription';

interface Htmx {
  defineExtension(name: string, extension: { onEvent(name: string, event: Event): void }): void;
  swap(target: Element, content: DocumentFragment, spec: { swapStyle: string }): void;
}

interface Globals {
  htmx?: Htmx;
  Telegraphy?: { default: { register(name: string, handler: (event: TEvent) => void): unknown } };
}

const globals = globalThis as Globals;
let ids = 0;

/** The out-of-band element that makes `change`: htmx swaps it into its selector's target. */
function oobElement(change: Change): Element {
  const document = change.target.ownerDocument;
  if (change.kind === 'insert') {
    const wrapper = document.createElement('div'); // built, not parsed: it may hold a <tr>
    wrapper.append(change.node);
    wrapper.setAttribute('hx-swap-oob', `${change.at}:${selectorOf(change.target)}`);
    return wrapper;
  }
  if (change.kind === 'remove') {
    const marker = document.createElement('div');
    marker.setAttribute('hx-swap-oob', `delete:${selectorOf(change.target)}`);
    return marker;
  }
  change.node.setAttribute('hx-swap-oob', `outerHTML:${selectorOf(change.target)}`);
  return change.node;
}

/** A selector that finds `element`: its id, or its object within its marked parent's id. */
function selectorOf(element: Element): string {
  if (!element.hasAttribute(FRAGMENT_ATTRIBUTE) && element.parentElement) {
    const object = CSS.escape(element.getAttribute(OBJECT_ATTRIBUTE) ?? '');
    return `${selectorOf(element.parentElement)} > [${OBJECT_ATTRIBUTE}="${object}"]`;
  }
  if (!element.id) element.id = `telegraphy-${++ids}`;
  return `#${CSS.escape(element.id)}`;
}

function apply(htmx: Htmx, document: Document, event: TEvent): void {
  const changes = changesFor(document, event, true);
  if (!changes.length) return;
  const content = document.createDocumentFragment();
  for (const change of changes) content.append(oobElement(change));
  htmx.swap(document.body, content, { swapStyle: 'none' });
}

function define(htmx: Htmx, document: Document): void {
  let watching = false;
  htmx.defineExtension('telegraphy', {
    onEvent(name) {
      // The first element htmx processes in the extension's scope starts the watch.
      if (name !== 'htmx:afterProcessNode' || watching || !globals.Telegraphy) return;
      watching = true;
      watchMarked(globals.Telegraphy.default, document, (event) => apply(htmx, document, event), true);
    },
  });
}

if (globals.htmx && typeof document !== 'undefined') define(globals.htmx, document);
