/**
 * The two run profiles: `QUICK=1` (or `true`, `yes`) in the environment runs every notebook in
 * about a minute on a small subset (CI, a first look); unset or empty, a notebook runs the full
 * recipe. Any other value is refused rather than guessed at: `QUICK=on` or `QUICK=0` silently
 * running the 30-epoch recipe would cost the user an hour.
 *
 * @module
 */
import { rangeError } from "./validate.ts";

/** Environment variable selecting the quick profile. */
export const QUICK_ENV = "QUICK";

/** The values of `QUICK` that turn the quick profile on (compared without case). */
export const QUICK_VALUES = ["1", "true", "yes"] as const;

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
 * @returns `true` for `1`, `true` or `yes` (any case), `false` when unset or empty.
 * @throws {RangeError} For any other value, listing the accepted ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(["1", "TRUE", "", undefined].map(isQuickValue), [true, true, false, false]);
 * assert.throws(() => isQuickValue("on"), /QUICK.*"on", expected one of "1", "true" or "yes"/);
 * ```
 */
export function isQuickValue(value: string | undefined): boolean {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return false;
  if (!(QUICK_VALUES as readonly string[]).includes(text)) {
    rangeError(
      { action: "choose the run profile", subject: QUICK_ENV },
      "its value",
      value,
      `one of ${QUICK_VALUES.map((v) => `"${v}"`).join(", ").replace(/, ([^,]*)$/, " or $1")} ` +
        "for the quick profile, or unset or empty for the full one",
    );
  }
  return true;
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
