/**
 * One grammar for every error message in lib/:
 *
 *     Cannot <do what> "<subject>": <what> is <found>, expected <expected>. <hint>
 *
 * for example `Cannot train "model": option epochs is 0, expected a positive integer`. The subject
 * (a file, a sweep, an option's owner) and the hint are optional. A wrong type throws a `TypeError`,
 * a value of the right type outside its range a `RangeError`; file-system cases use `Deno.errors.*`
 * and build their text with {@linkcode cannotMessage}.
 *
 * @example
 * ```ts
 * import { positiveInteger } from "./validate.ts";
 * const where = { action: "train", subject: "model" };
 * positiveInteger(where, "option epochs", 30); // 30
 * ```
 *
 * @module
 */

/** What was being done, and to what, when a check failed. */
export interface Where {
  /** The verb phrase after "Cannot", e.g. `"load checkpoint"`. */
  action: string;
  /** The thing acted on, quoted in the message, e.g. a path or a name. */
  subject?: string;
}

/** Longest rendering of a found value before it is cut, so a garbage input cannot flood a log. */
const MAX_FOUND_CHARS = 80;

/**
 * Renders a found value for a message: strings quoted, arrays bracketed and long values cut.
 *
 * @example
 * ```ts
 * import { describeValue } from "./validate.ts";
 * describeValue("a.bin"); // "\"a.bin\""
 * describeValue([1, 2]); // "[1, 2]"
 * ```
 */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (typeof value === "bigint") text = `${value}n`;
  else if (Array.isArray(value)) text = `[${value.map(describeValue).join(", ")}]`;
  else if (ArrayBuffer.isView(value)) {
    text = `a ${value.constructor.name} of ${(value as unknown as ArrayLike<unknown>).length}`;
  } else if (value === null || typeof value !== "object") text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_FOUND_CHARS ? `${text.slice(0, MAX_FOUND_CHARS - 1)}…` : text;
}

/**
 * The message in the one grammar. `found` is rendered with {@linkcode describeValue} unless it is
 * already a phrase (pass `{ phrase: "missing" }`).
 */
export function cannotMessage(
  where: Where,
  what: string,
  found: unknown,
  expected: string,
  hint?: string,
): string {
  const subject = where.subject === undefined ? "" : ` "${where.subject}"`;
  const shown = isPhrase(found) ? found.phrase : describeValue(found);
  const tail = hint ? `. ${hint}` : "";
  return `Cannot ${where.action}${subject}: ${what} is ${shown}, expected ${expected}${tail}`;
}

/** A found value that is already words (`"missing"`, `"a directory"`), shown without quotes. */
export interface Phrase {
  phrase: string;
}

/** Marks words to show as they are in place of a quoted value. */
export function phrase(text: string): Phrase {
  return { phrase: text };
}

function isPhrase(value: unknown): value is Phrase {
  return typeof value === "object" && value !== null && "phrase" in value &&
    Object.keys(value).length === 1;
}

/**
 * A new error of the same class as `error` (a `RangeError` stays a `RangeError`, a
 * `Deno.errors.NotFound` stays one), with a message that says where it happened and the original as
 * its `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const wrapped = sameClass(new RangeError("x"), "Cannot run sweep: x");
 * assert.ok(wrapped instanceof RangeError);
 * ```
 */
export function sameClass(error: unknown, message: string): Error {
  const Class = error instanceof Error ? error.constructor as ErrorConstructor : Error;
  return new Class(message, { cause: error });
}

/** Throws a `RangeError` in the one grammar. */
export function rangeError(
  where: Where,
  what: string,
  found: unknown,
  expected: string,
  hint?: string,
): never {
  throw new RangeError(cannotMessage(where, what, found, expected, hint));
}

/** Throws a `TypeError` in the one grammar. */
export function typeError(
  where: Where,
  what: string,
  found: unknown,
  expected: string,
  hint?: string,
): never {
  throw new TypeError(cannotMessage(where, what, found, expected, hint));
}

/** A number, or a `TypeError` naming what was found instead. */
export function number(where: Where, what: string, value: unknown): number {
  if (typeof value !== "number") typeError(where, what, value, "a number");
  return value;
}

/** A finite number (not NaN, not ±Infinity). */
export function finiteNumber(where: Where, what: string, value: unknown): number {
  if (!Number.isFinite(number(where, what, value))) {
    rangeError(where, what, value, "a finite number");
  }
  return value as number;
}

/** Bounds for {@linkcode numberInRange}; each end is inclusive unless said otherwise. */
export interface Bounds {
  min?: number;
  max?: number;
  /** Exclude `min` itself. */
  minExclusive?: boolean;
  /** Exclude `max` itself. */
  maxExclusive?: boolean;
}

/** Describes bounds in words: `a number in (0, 1]`, `a number ≥ 0`. */
export function describeBounds(bounds: Bounds, noun = "a number"): string {
  const { min, max, minExclusive = false, maxExclusive = false } = bounds;
  if (min !== undefined && max !== undefined) {
    return `${noun} in ${minExclusive ? "(" : "["}${min}, ${max}${maxExclusive ? ")" : "]"}`;
  }
  if (min !== undefined) return `${noun} ${minExclusive ? ">" : "≥"} ${min}`;
  if (max !== undefined) return `${noun} ${maxExclusive ? "<" : "≤"} ${max}`;
  return noun;
}

/** A finite number within bounds. */
export function numberInRange(where: Where, what: string, value: unknown, bounds: Bounds): number {
  const x = finiteNumber(where, what, value);
  const { min, max, minExclusive = false, maxExclusive = false } = bounds;
  const below = min !== undefined && (minExclusive ? x <= min : x < min);
  const above = max !== undefined && (maxExclusive ? x >= max : x > max);
  if (below || above) rangeError(where, what, x, describeBounds(bounds));
  return x;
}

/** A positive finite number. */
export function positiveNumber(where: Where, what: string, value: unknown): number {
  const x = finiteNumber(where, what, value);
  if (!(x > 0)) rangeError(where, what, x, "a positive number");
  return x;
}

/** A finite number ≥ 0. */
export function nonNegativeNumber(where: Where, what: string, value: unknown): number {
  const x = finiteNumber(where, what, value);
  if (!(x >= 0)) rangeError(where, what, x, "a number ≥ 0");
  return x;
}

/** A safe integer within optional bounds (inclusive). */
export function integer(
  where: Where,
  what: string,
  value: unknown,
  bounds: { min?: number; max?: number } = {},
): number {
  const x = number(where, what, value);
  const noun = bounds.min === 1 && bounds.max === undefined
    ? "a positive integer"
    : bounds.min === 0 && bounds.max === undefined
    ? "a non-negative integer"
    : describeBounds(bounds, "an integer");
  if (!Number.isSafeInteger(x)) rangeError(where, what, x, noun);
  if (bounds.min !== undefined && x < bounds.min) rangeError(where, what, x, noun);
  if (bounds.max !== undefined && x > bounds.max) rangeError(where, what, x, noun);
  return x;
}

/** An integer ≥ 1. */
export function positiveInteger(where: Where, what: string, value: unknown): number {
  return integer(where, what, value, { min: 1 });
}

/** An integer ≥ 0. */
export function nonNegativeInteger(where: Where, what: string, value: unknown): number {
  return integer(where, what, value, { min: 0 });
}

/** One of the allowed values (compared with `===`). */
export function oneOf<T>(where: Where, what: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map(describeValue);
    const expected = list.length === 1
      ? list[0]
      : `one of ${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
    rangeError(where, what, value, expected);
  }
  return value as T;
}
