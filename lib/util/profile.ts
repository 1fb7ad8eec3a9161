/**
 * The two run profiles: `QUICK=1` in the environment runs every notebook in about a minute on a
 * small subset (CI, a first look); without it a notebook runs the full recipe.
 *
 * @module
 */

/** Environment variable selecting the quick profile. */
export const QUICK_ENV = "QUICK";

/**
 * Whether the quick profile is on (`QUICK=1`, `true` or `yes`).
 *
 * @returns `true` in the quick profile.
 */
export function isQuick(): boolean {
  return isQuickValue(Deno.env.get(QUICK_ENV));
}

/**
 * Whether a value of `QUICK` turns the quick profile on, for environments other than this
 * process's (e.g. the one a notebook kernel is started with).
 *
 * @param value The variable's value, or `undefined` if unset.
 * @returns `true` for `1`, `true` or `yes` (any case).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(["1", "TRUE", "0", undefined].map(isQuickValue), [true, true, false, false]);
 * ```
 */
export function isQuickValue(value: string | undefined): boolean {
  const text = (value ?? "").toLowerCase();
  return text === "1" || text === "true" || text === "yes";
}

/**
 * Picks a value by profile, so a notebook's configuration states both side by side:
 * `const epochs = byProfile({ quick: 2, full: 30 })`.
 *
 * @param values The value for each profile.
 * @returns `values.quick` in the quick profile, else `values.full`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("QUICK", "1");
 * assert.equal(byProfile({ quick: 2, full: 30 }), 2);
 * Deno.env.delete("QUICK");
 * assert.equal(byProfile({ quick: 2, full: 30 }), 30);
 * ```
 */
export function byProfile<T>(values: { quick: T; full: T }): T {
  return isQuick() ? values.quick : values.full;
}

/**
 * The profile's name, for titles and file names.
 *
 * @returns `"quick"` or `"full"`.
 */
export function profileName(): "quick" | "full" {
  return isQuick() ? "quick" : "full";
}
