import assert from "node:assert/strict";
import {
  comparisonFindings,
  curveFindings,
  momentumFindings,
  rateFindings,
} from "../../lib/notebook/findings.ts";

Deno.test("curveFindings() says whether the validation loss is still falling", () => {
  const history = [1, 2].flatMap((epoch) => [
    { epoch, split: "train" as const, loss: 2 / epoch, accuracy: 0.5 },
    { epoch, split: "validation" as const, loss: 1.5 / epoch, accuracy: 0.25 * epoch },
  ]);
  const text = String(curveFindings(history));
  assert.match(text, /After 2 epochs the training loss is 1\.000 and the validation loss 0\.750/);
  assert.match(text, /validation accuracy 50\.0 %/);
  assert.match(text, /still falling/);
  assert.equal(String(curveFindings([])), "No epochs were recorded.");
});

Deno.test("rateFindings() states the best rate, the near-best range and the unreached target", () => {
  const runs = [0.001, 0.01, 0.1, 0.3].map((learningRate, i) => ({
    learningRate,
    testAccuracy: [0.3, 0.6, 0.9, 0.89][i],
    diverged: false,
    epochsToTarget: null,
  }));
  const text = String(rateFindings(runs, { target: 0.97, epochs: 3 }));
  assert.match(text, /90\.0 %, at 0\.1; within two points of it: 0\.1 to 0\.3\./);
  assert.match(
    text,
    /The smallest rate, 0\.001, reaches 30\.0 %; the original's 0\.01 reaches 60\.0 %/,
  );
  assert.match(text, /No run diverged/);
  assert.match(text, /No rate reaches 97\.0 % validation accuracy within 3 epochs/);
  const diverged = runs.map((r) => ({ ...r, testAccuracy: null, diverged: true }));
  assert.equal(String(rateFindings(diverged, { target: 0.97, epochs: 3 })), "Every run diverged.");
});

Deno.test("momentumFindings() compares momentum at the smallest and largest complete rate", () => {
  const runs = [0.01, 0.1, 1].flatMap((learningRate) =>
    [0, 0.9].map((momentum) => ({
      learningRate,
      momentum,
      accuracy: learningRate === 1 && momentum === 0.9 ? null : learningRate + momentum / 10,
      diverged: learningRate === 1 && momentum === 0.9,
    }))
  );
  const text = String(momentumFindings(runs));
  // lr 1 lacks a momentum-0.9 value, so 0.1 is the largest rate compared.
  assert.match(text, /At 0\.01, momentum 0\.9 gives 10\.0 % against 1\.0 % without/);
  assert.match(text, /At 0\.1, momentum 0\.9 gives 19\.0 % against 10\.0 % without/);
  assert.match(text, /Diverged: 1 with momentum 0\.9/);
  assert.match(text, /best validation accuracy, 100\.0 %, with learning rate 1 and momentum 0/);
});

Deno.test("comparisonFindings() gives the spread and what beats the reference, per measure", () => {
  const rows = [
    { variant: "baseline", test: 0.52, rotated: 0.4 },
    { variant: "Adam", test: 0.9, rotated: 0.6 },
    { variant: "dropout", test: 0.5, rotated: null },
  ];
  const text = String(comparisonFindings(rows, {
    name: "variant",
    reference: "baseline",
    measures: { test: "Test", rotated: "Rotated" },
  }));
  assert.match(
    text,
    /Test: from 50\.0 % \(dropout\) to 90\.0 % \(Adam\), a spread of 40\.0 points; Adam above baseline\./,
  );
  assert.match(
    text,
    /Rotated: from 40\.0 % \(baseline\) to 60\.0 % \(Adam\), a spread of 20\.0 points/,
  );
});

Deno.test("comparisonFindings() computes the spread from the percentages it prints", () => {
  // 97.44 % and 98.06 % print as 97.4 % and 98.1 %: the spread must read 0.7, not 0.6.
  const text = String(comparisonFindings([
    { schedule: "constant", test: 0.9744 },
    { schedule: "cosine", test: 0.9806 },
  ], { name: "schedule", reference: "constant", measures: { test: "Test" } }));
  assert.match(text, /from 97\.4 % \(constant\) to 98\.1 % \(cosine\), a spread of 0\.7 points/);
});
