import assert from "node:assert/strict";
import {
  cannotMessage,
  describeValue,
  finiteNumber,
  integer,
  numberInRange,
  oneOf,
  phrase,
  positiveInteger,
  positiveNumber,
} from "../../lib/util/validate.ts";

const where = { action: "train", subject: "model" };

Deno.test("cannotMessage() follows the one grammar, with and without subject and hint", () => {
  assert.equal(
    cannotMessage(where, "option epochs", 0, "a positive integer"),
    'Cannot train "model": option epochs is 0, expected a positive integer',
  );
  assert.equal(
    cannotMessage({ action: "read MNIST" }, "MNIST_DIR", phrase("a file"), "a folder", "Unset it"),
    "Cannot read MNIST: MNIST_DIR is a file, expected a folder. Unset it",
  );
});

Deno.test("describeValue() quotes strings, names typed arrays and cuts long values", () => {
  assert.equal(describeValue("x"), '"x"');
  assert.equal(describeValue([1, "a"]), '[1, "a"]');
  assert.equal(describeValue(new Float32Array(3)), "a Float32Array of 3");
  const long = describeValue("y".repeat(500));
  assert.equal(long.length, 80);
  assert.ok(long.endsWith("…"));
});

Deno.test("number checks throw TypeError for a wrong type, RangeError out of range", () => {
  assert.throws(() => finiteNumber(where, "option lr", "0.1"), {
    name: "TypeError",
    message: 'Cannot train "model": option lr is "0.1", expected a number',
  });
  assert.throws(() => finiteNumber(where, "option lr", NaN), {
    name: "RangeError",
    message: 'Cannot train "model": option lr is NaN, expected a finite number',
  });
  assert.throws(() => positiveNumber(where, "option lr", 0), /lr is 0, expected a positive number/);
  assert.equal(positiveNumber(where, "option lr", 1e-3), 1e-3);
});

Deno.test("numberInRange() honours open and closed ends", () => {
  const open = { min: 0, max: 1, maxExclusive: true };
  assert.equal(numberInRange(where, "dropout", 0, open), 0);
  assert.throws(
    () => numberInRange(where, "dropout", 1, open),
    /dropout is 1, expected a number in \[0, 1\)/,
  );
  assert.throws(() => numberInRange(where, "x", -1, { min: 0 }), /x is -1, expected a number ≥ 0/);
});

Deno.test("integer checks refuse fractions, unsafe integers and values out of bounds", () => {
  assert.equal(positiveInteger(where, "option epochs", 30), 30);
  assert.throws(() => positiveInteger(where, "option epochs", 0), /expected a positive integer/);
  assert.throws(() => positiveInteger(where, "option epochs", 2.5), /is 2.5, expected a positive/);
  assert.throws(() => positiveInteger(where, "seed", 2 ** 53), RangeError);
  assert.throws(
    () => integer(where, "option seed", 4294967296, { min: 0, max: 4294967295 }),
    /seed is 4294967296, expected an integer in \[0, 4294967295\]/,
  );
});

Deno.test("oneOf() lists the accepted values", () => {
  assert.equal(oneOf(where, "dataset", "mnist", ["mnist", "fashion-mnist"]), "mnist");
  assert.throws(
    () => oneOf(where, "QUICK", "on", ["1", "true", "yes"]),
    { message: 'Cannot train "model": QUICK is "on", expected one of "1", "true" or "yes"' },
  );
});
