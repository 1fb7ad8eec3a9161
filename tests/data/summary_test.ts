import assert from "node:assert/strict";
import { classCountRows, classMeanImages } from "../../lib/data/summary.ts";
import { loadSplits } from "../../lib/data/mnist.ts";

const { train, test } = await loadSplits({ limit: 2_000 });

Deno.test("classMeanImages() equals a per-class average computed pixel by pixel", () => {
  const means = classMeanImages(train);
  for (const c of [0, 7]) {
    const members = [...train.labels.keys()].filter((i) => train.labels[i] === c);
    for (const pixel of [0, 350, 406, 783]) {
      const expected = members.reduce((sum, i) => sum + train.images[i * 784 + pixel], 0) /
        members.length;
      assert.ok(Math.abs(means[c * 784 + pixel] - expected) < 1e-6, `class ${c} pixel ${pixel}`);
    }
  }
});

Deno.test("classCountRows() counts every example once per split", () => {
  const rows = classCountRows({ train, test });
  assert.equal(rows.length, 20);
  const total = (split: string) =>
    rows.filter((r) => r.split === split).reduce((s, r) => s + r.count, 0);
  assert.deepEqual([total("train"), total("test")], [train.count, test.count]);
  const sevens = [...test.labels].filter((l) => l === 7).length;
  assert.equal(rows.find((r) => r.split === "test" && r.class === 7)?.count, sevens);
});
