import assert from "node:assert/strict";
import { byProfile, isQuick, isQuickValue, profileName } from "../../lib/util/profile.ts";

Deno.test("isQuickValue() accepts 1, true and yes in any case; unset or empty means full", () => {
  const cases: [string | undefined, boolean][] = [
    ["1", true],
    ["true", true],
    ["TRUE", true],
    ["Yes", true],
    [" yes ", true],
    ["", false],
    [undefined, false],
  ];
  for (const [value, quick] of cases) assert.equal(isQuickValue(value), quick, String(value));
});

Deno.test("isQuickValue() refuses any other value, naming it and the accepted ones", async (t) => {
  for (const value of ["on", "0", "false", "no", "2", "quick"]) {
    await t.step(value, () => {
      assert.throws(() => isQuickValue(value), {
        name: "RangeError",
        message:
          `Cannot choose the run profile "QUICK": its value is "${value}", expected one of ` +
          `"1", "true" or "yes" for the quick profile, or unset or empty for the full one`,
      });
    });
  }
});

Deno.test("isQuick(), byProfile() and profileName() read QUICK from the environment", () => {
  const saved = Deno.env.get("QUICK");
  try {
    Deno.env.set("QUICK", "on");
    assert.throws(() => byProfile({ quick: 2, full: 30 }), /"on"/);
    assert.throws(() => profileName(), RangeError);
    Deno.env.set("QUICK", "yes");
    assert.deepEqual([isQuick(), byProfile({ quick: 2, full: 30 }), profileName()], [
      true,
      2,
      "quick",
    ]);
    Deno.env.set("QUICK", "");
    assert.deepEqual([isQuick(), profileName()], [false, "full"]);
  } finally {
    if (saved === undefined) Deno.env.delete("QUICK");
    else Deno.env.set("QUICK", saved);
  }
});
