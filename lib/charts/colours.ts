/**
 * Colours: the categorical palette for series, and black-or-white text on any background.
 *
 * @module
 */
import * as d3 from "d3";
import { CATEGORY_COLORS } from "./frame.ts";

/**
 * Distinct values in a stable order: numbers ascending, anything else in order of first appearance.
 *
 * @param values The values (undefined and null are skipped).
 * @returns The distinct values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(categoryDomain([3, 1, 3, 2]), [1, 2, 3]);
 * assert.deepEqual(categoryDomain(["train", "validation", "train"]), ["train", "validation"]);
 * ```
 */
export function categoryDomain<T>(values: Iterable<T>): T[] {
  const distinct = [...new Set(values)].filter((v) => v !== undefined && v !== null);
  return distinct.every((v) => typeof v === "number")
    ? (distinct as number[]).sort((a, b) => a - b) as T[]
    : distinct;
}

/**
 * Black or white, whichever reads better on a given background colour.
 *
 * @param background Any CSS colour (`#rrggbb`, `rgb(r, g, b)`, a name).
 * @returns `"black"` on light colours, `"white"` on dark ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(contrastText("#fde725"), "black"); // viridis yellow
 * assert.equal(contrastText("rgb(8, 48, 107)"), "white"); // dark blue
 * ```
 */
export function contrastText(background: string): "black" | "white" {
  const { r, g, b } = d3.rgb(background);
  const linear = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  // Contrast ratio with black equals that with white at luminance ≈ 0.179.
  return luminance > 0.179 ? "black" : "white";
}

/**
 * Categorical colours for `n` series (Observable 10), cycling if there are more than ten.
 *
 * @param n Number of series.
 * @returns One CSS colour per series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const colors = colorRange(11);
 * assert.equal(colors.length, 11);
 * assert.equal(colors[10], colors[0]);
 * ```
 */
export function colorRange(n: number): string[] {
  return Array.from({ length: n }, (_, i) => CATEGORY_COLORS[i % CATEGORY_COLORS.length]);
}
