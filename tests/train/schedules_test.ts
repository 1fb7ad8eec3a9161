import assert from "node:assert/strict";
import { assertNear } from "../near.ts";
import {
  constantLr,
  cosineAnnealing,
  exponentialRange,
  oneCycle,
  scheduleCurve,
  stepDecay,
} from "../../lib/train/schedules.ts";

Deno.test("constantLr() gives the same rate at every step", () => {
  const schedule = constantLr(0.01);
  for (const step of [0, 1, 796, 797, 10_000]) assert.equal(schedule(step, 797), 0.01);
});

Deno.test("stepDecay() changes the rate only at epoch boundaries, like StepLR", async (t) => {
  await t.step("stepSize 3, gamma 0.1, 10 steps an epoch", () => {
    const schedule = stepDecay(0.5, { stepSize: 3 });
    // Epochs 0–2: 0.5; 3–5: 0.05; 6–8: 0.005 (gamma defaults to 0.1).
    const cases: [number, number][] = [[0, 0.5], [29, 0.5], [30, 0.05], [59, 0.05], [60, 0.005]];
    for (const [step, lr] of cases) assertNear(schedule(step, 10), lr, 1e-12, `step ${step}: `);
  });
  await t.step("PyTorch StepLR(step_size=2, gamma=0.5), one value per epoch", () => {
    const torch = [0.1, 0.1, 0.05, 0.05, 0.025, 0.025];
    const schedule = stepDecay(0.1, { stepSize: 2, gamma: 0.5 });
    torch.forEach((lr, epoch) => {
      assert.equal(schedule(epoch * 7, 7), lr);
      assert.equal(schedule(epoch * 7 + 6, 7), lr);
    });
  });
});

Deno.test("cosineAnnealing() follows half a cosine from lr to minLr", async (t) => {
  await t.step("start, quarter, middle, end and beyond", () => {
    const [lr, minLr] = [0.1, 0.02];
    const schedule = cosineAnnealing(lr, { epochs: 4, minLr }); // T = 4 · 25 = 100 steps
    assert.equal(schedule(0, 25), lr);
    // cos(π/4) = √2/2, cos(π/2) = 0, cos(3π/4) = −√2/2.
    assertNear(schedule(25, 25), minLr + (lr - minLr) * (1 + Math.SQRT1_2) / 2);
    assertNear(schedule(50, 25), (lr + minLr) / 2);
    assertNear(schedule(75, 25), minLr + (lr - minLr) * (1 - Math.SQRT1_2) / 2);
    assert.equal(schedule(100, 25), minLr);
    assert.equal(schedule(250, 25), minLr);
  });
  await t.step("PyTorch CosineAnnealingLR(T_max=30, eta_min=0.001), per step", () => {
    // torch 1.13, SGD lr 0.1, scheduler.step() after each batch.
    const torch = [
      0.1,
      0.09972883382072953,
      0.09891830623632338,
      0.0975772975566101,
      0.09572050015330873,
      0.09336825748732971,
      0.0905463412215599,
      0.08728566886113101,
      0.08362196501476347,
      0.07959536998847741,
      0.07525,
      0.07063346383225212,
      0.0657963412215599,
      0.060791628695479084,
      0.05567415893174885,
      0.05050000000000001,
      0.04532584106825116,
      0.04020837130452091,
      0.03520365877844011,
      0.030366536167747902,
      0.025750000000000012,
      0.021404630011522586,
      0.017378034985236535,
      0.013714331138868996,
      0.010453658778440105,
      0.0076317425126702825,
      0.00527949984669125,
      0.003422702443389899,
      0.002081693763676618,
      0.0012711661792704665,
    ];
    const schedule = cosineAnnealing(0.1, { epochs: 3, minLr: 0.001 });
    torch.forEach((lr, step) => assertNear(schedule(step, 10), lr, 1e-9, `step ${step}: `));
  });
});

Deno.test("oneCycle() warms up to maxLr at pctStart and anneals to the final rate", async (t) => {
  await t.step("landmarks from the formula", () => {
    const maxLr = 0.2, epochs = 2, stepsPerEpoch = 50; // T = 100, peak at step 0.3 · 100 − 1 = 29
    const schedule = oneCycle(maxLr, { epochs });
    const start = maxLr / 25, end = maxLr / 25 / 1e4;
    assertNear(schedule(0, stepsPerEpoch), start);
    assertNear(schedule(14.5, stepsPerEpoch), (start + maxLr) / 2); // halfway up: cos(π/2) = 0
    assert.equal(schedule(29, stepsPerEpoch), maxLr);
    assertNear(schedule(64, stepsPerEpoch), (maxLr + end) / 2); // halfway down: (29 + 99) / 2
    assertNear(schedule(99, stepsPerEpoch), end);
    assertNear(schedule(150, stepsPerEpoch), end);
    const curve = Array.from({ length: 100 }, (_, step) => schedule(step, stepsPerEpoch));
    for (let i = 1; i < 100; i++) {
      assert.ok(i <= 29 ? curve[i] > curve[i - 1] : curve[i] < curve[i - 1], `step ${i}`);
    }
  });
  await t.step("PyTorch OneCycleLR(max_lr=0.1, epochs=3, steps_per_epoch=10)", () => {
    const torch = [
      0.0040000000000000036,
      0.0076537824394582454,
      0.018058874503045733,
      0.03363119524647569,
      0.052000000000000005,
      0.0703688047535243,
      0.08594112549695429,
      0.09634621756054176,
      0.1,
      0.09944154354509119,
      0.0977786491747459,
      0.09504846320134738,
      0.09131197346804489,
      0.08665264698111695,
      0.0811745653949763,
      0.0750001,
      0.06826717815011489,
      0.06112620219362893,
      0.0537366897333025,
      0.046263710266697504,
      0.03887419780637107,
      0.03173322184988512,
      0.025000300000000013,
      0.0188258346050237,
      0.01334775301888306,
      0.008688426531955128,
      0.004951936798652629,
      0.002221750825254118,
      0.0005588564549088189,
      4e-7,
    ];
    const schedule = oneCycle(0.1, { epochs: 3 });
    torch.forEach((lr, step) => assertNear(schedule(step, 10), lr, 1e-9, `step ${step}: `));
  });
  await t.step("PyTorch OneCycleLR with a fractional peak (total_steps=7, pct_start=0.25)", () => {
    // The warm-up ends at step 0.25 · 7 − 1 = 0.75, between steps 0 and 1.
    const torch = [
      0.04999999999999999,
      0.49721049884972585,
      0.4333297049894991,
      0.3058246032555895,
      0.15900607916449283,
      0.04389686611458033,
      0.0005,
    ];
    const schedule = oneCycle(0.5, {
      epochs: 1,
      pctStart: 0.25,
      divFactor: 10,
      finalDivFactor: 100,
    });
    torch.forEach((lr, step) => assertNear(schedule(step, 7), lr, 1e-9, `step ${step}: `));
  });
});

Deno.test("exponentialRange() grows geometrically from minLr to maxLr", () => {
  const [minLr, maxLr, steps] = [1e-5, 10, 61];
  const schedule = exponentialRange(minLr, maxLr, steps);
  assert.equal(schedule(0, 32), minLr);
  assert.equal(schedule(steps - 1, 32), maxLr);
  assert.equal(schedule(steps + 5, 32), maxLr);
  // 6 decades over 60 steps: ×10 every 10 steps, ×10^0.1 every step.
  assertNear(schedule(10, 32), 1e-4, 1e-12);
  assertNear(schedule(30, 32), 1e-2, 1e-12);
  for (let step = 1; step < steps; step++) {
    assertNear(schedule(step, 32) / schedule(step - 1, 32), 10 ** 0.1, 1e-12, `step ${step}: `);
  }
});

Deno.test("scheduleCurve() samples the run evenly, first and last step included", async (t) => {
  await t.step("fewer points than steps", () => {
    const schedule = cosineAnnealing(1, { epochs: 3 });
    const rows = scheduleCurve(schedule, { epochs: 3, stepsPerEpoch: 100, points: 4 });
    // Steps 0, 99.67 → 100, 199.33 → 199, 299.
    assert.deepEqual(rows.map((r) => r.step), [0, 100, 199, 299]);
    assert.deepEqual(rows.map((r) => r.epoch), [0, 1, 1.99, 2.99]);
    for (const row of rows) assert.equal(row.learningRate, schedule(row.step, 100));
  });
  await t.step("more points than steps gives every step", () => {
    const rows = scheduleCurve(constantLr(0.1), { epochs: 2, stepsPerEpoch: 3 });
    assert.deepEqual(rows.map((r) => r.step), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(rows.map((r) => r.epoch), [0, 1 / 3, 2 / 3, 1, 4 / 3, 5 / 3]);
  });
  await t.step("the default of 300 rows", () => {
    const rows = scheduleCurve(constantLr(0.1), { epochs: 30, stepsPerEpoch: 797 });
    assert.equal(rows.length, 300);
    assert.equal(rows.at(-1)!.step, 30 * 797 - 1);
  });
});

Deno.test("schedules reject bad options with a RangeError naming the option", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ["negative lr", () => constantLr(-0.1), /option lr is -0\.1/],
    ["zero lr", () => stepDecay(0, { stepSize: 1 }), /option lr is 0/],
    ["NaN lr", () => cosineAnnealing(NaN, { epochs: 1 }), /option lr is NaN/],
    ["stepSize 0", () => stepDecay(0.1, { stepSize: 0 }), /option stepSize is 0/],
    ["negative gamma", () => stepDecay(0.1, { stepSize: 1, gamma: -1 }), /option gamma is -1/],
    [
      "minLr above lr",
      () => cosineAnnealing(0.1, { epochs: 1, minLr: 0.2 }),
      /option minLr is 0\.2/,
    ],
    ["epochs 0", () => cosineAnnealing(0.1, { epochs: 0 }), /option epochs is 0/],
    ["negative maxLr", () => oneCycle(-1, { epochs: 1 }), /option maxLr is -1/],
    ["pctStart 0", () => oneCycle(0.1, { epochs: 1, pctStart: 0 }), /option pctStart is 0,/],
    ["pctStart 1", () => oneCycle(0.1, { epochs: 1, pctStart: 1 }), /option pctStart is 1,/],
    ["pctStart 1.5", () => oneCycle(0.1, { epochs: 1, pctStart: 1.5 }), /option pctStart is 1\.5/],
    ["divFactor 0", () => oneCycle(0.1, { epochs: 1, divFactor: 0 }), /option divFactor is 0/],
    ["steps 1", () => exponentialRange(1e-5, 1, 1), /option steps is 1,/],
    ["steps 2.5", () => exponentialRange(1e-5, 1, 2.5), /option steps is 2\.5/],
    ["maxLr below minLr", () => exponentialRange(1, 0.1, 10), /option maxLr is 0\.1.*minLr/],
    ["negative minLr", () => exponentialRange(-1, 1, 10), /option minLr is -1/],
    [
      "curve points 1",
      () => scheduleCurve(constantLr(1), { epochs: 1, stepsPerEpoch: 5, points: 1 }),
      /option points is 1/,
    ],
    [
      "curve stepsPerEpoch 0",
      () => scheduleCurve(constantLr(1), { epochs: 1, stepsPerEpoch: 0 }),
      /option stepsPerEpoch is 0/,
    ],
    ["negative step", () => constantLr(1)(-1, 10), /step is -1/],
    ["stepsPerEpoch 0 at call", () => oneCycle(1, { epochs: 1 })(0, 0), /stepsPerEpoch is 0/],
  ];
  for (const [name, call, message] of cases) {
    await t.step(
      name,
      () => assert.throws(call, (e: Error) => e instanceof RangeError && message.test(e.message)),
    );
  }
});
