/** Closeness assertions shared by the numerical tests. */
import assert from "node:assert/strict";

/** `actual` within a relative tolerance of `expected`. */
export function assertNear(actual: number, expected: number, relative = 1e-12, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}${actual} vs ${expected}`,
  );
}
