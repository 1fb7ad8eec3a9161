/**
 * Test helper: parses chart markup with linkedom and queries it with CSS selectors, typed for
 * Deno (which has no DOM types).
 *
 * @module
 */
import { parseHTML } from "linkedom";

/** The part of a DOM element the chart tests read. */
export interface Node {
  /** Element name, e.g. `"svg"` (lower-case for SVG elements). */
  tagName: string;
  /** Text inside the element. */
  textContent: string | null;
  /** An attribute's value. */
  getAttribute(name: string): string | null;
  /** The first matching descendant. */
  querySelector(selector: string): Node | null;
  /** All matching descendants. */
  querySelectorAll(selector: string): Iterable<Node> & { length: number };
}

/**
 * Parses SVG or HTML markup inside an HTML body.
 *
 * @param markup The markup.
 * @returns The body element, to query.
 */
export function parseMarkup(markup: string): Node {
  const { document } = parseHTML(
    `<!doctype html><html><body>${markup}</body></html>`,
  ) as unknown as {
    document: { body: Node };
  };
  return document.body;
}

/**
 * All elements matching a selector.
 *
 * @param root Where to search.
 * @param selector A CSS selector.
 * @returns The matching elements, in document order.
 */
export function all(root: Node, selector: string): Node[] {
  return [...root.querySelectorAll(selector)];
}

/**
 * Texts of all `<text>` elements under the elements matching a selector.
 *
 * @param root Where to search.
 * @param selector A CSS selector for the containers, e.g. `g[aria-label="legend"]`.
 * @returns The texts, in document order.
 */
export function texts(root: Node, selector = "svg"): string[] {
  return all(root, `${selector} text`).map((e) => e.textContent ?? "");
}
