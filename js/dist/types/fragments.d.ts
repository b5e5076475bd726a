import type { TEvent } from './subscription';
export declare const FRAGMENT_ATTRIBUTE = "data-telegraphy-fragment";
export declare const ACTION_ATTRIBUTE = "data-telegraphy-action";
export declare const OBJECT_ATTRIBUTE = "data-telegraphy-object";
/** What the server sends in `meta.fragment`: no `html` for a delete. */
export interface Fragment {
    object: string;
    audience?: string;
    html?: string;
}
/** One change to the page: insert `node` into `target`, replace `target` with it, or remove it. */
export type Change = {
    kind: 'insert';
    target: Element;
    at: 'beforeend' | 'afterbegin';
    node: Element;
} | {
    kind: 'replace';
    target: Element;
    node: Element;
} | {
    kind: 'remove';
    target: Element;
};
/** The event's fragment, if it carries a well-formed one from the web app. */
export declare function fragmentOf(event: TEvent): Fragment | null;
/** The elements under `root` marked for fragments: those an htmx extension drives (`htmx`)
 * or those the client drives itself. */
export declare function markedElements(root: ParentNode, htmx?: boolean): Element[];
/** What `event`'s fragment changes under `root` (nothing if it carries none). */
export declare function changesFor(root: ParentNode, event: TEvent, htmx?: boolean): Change[];
/** Applies `event`'s fragment to the marked elements under `root`; how many changed. */
export declare function applyFragment(root: ParentNode, event: TEvent): number;
interface Registrar {
    register(name: string, handler: (event: TEvent) => void): unknown;
}
/** Registers `handler` with `client` for each event name marked under `root`, now and as
 * marked elements are added later (names already registered are not registered again). */
export declare function watchMarked(client: Registrar, root: Document, handler: (event: TEvent) => void, htmx?: boolean): void;
/** Keeps the marked elements of `root` up to date with `client`'s events: the script-tag
 * build calls this for the page. */
export declare function liveFragments(client: Registrar, root: Document): void;
export {};
