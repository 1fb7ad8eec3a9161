import assert from "node:assert/strict";
import {
  augmenter,
  augmentImages,
  randomlyRotateImages,
  randomTransforms,
  rotateImage,
  rotateImages,
  transformImage,
} from "../../lib/data/augment.ts";
import { setupBackend } from "../../lib/backend/backend.ts";
import { createModel } from "../../lib/model/network.ts";
import { createRng } from "../../lib/util/random.ts";
import { train } from "../../lib/train/train.ts";

await setupBackend({ log: false });

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** An image from a formula of (row, column). */
function imageOf(f: (r: number, c: number) => number): Float32Array {
  const image = new Float32Array(PIXELS);
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) image[r * SIDE + c] = f(r, c);
  return image;
}

/** Random values everywhere, borders included (so the border-touching path runs too). */
function noiseImage(seed: number): Float32Array {
  const rng = createRng(seed);
  return imageOf(() => rng());
}

/** A digit-like blob that keeps clear of the border (the common, fast path). */
function blobImage(seed: number): Float32Array {
  const rng = createRng(seed);
  return imageOf((r, c) => (r >= 5 && r < 23 && c >= 7 && c < 21 && rng() < 0.6 ? rng() : 0));
}

/** A ring of radius 7 around the centre with soft edges: a centred "0". */
const RING = imageOf((r, c) => Math.max(0, 1 - Math.abs(Math.hypot(r - 13.5, c - 13.5) - 7) / 2));

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

/**
 * Bilinear inverse mapping written straight from the definition, one pixel at a time with every
 * neighbour bounds-checked: the slow reference the fast loops must agree with.
 */
function referenceTransform(src: Float32Array, angle: number, dx: number, dy: number) {
  const t = (angle * Math.PI) / 180, cos = Math.cos(t), sin = Math.sin(t);
  const at = (r: number, c: number) =>
    r >= 0 && r < SIDE && c >= 0 && c < SIDE ? src[r * SIDE + c] : 0;
  return imageOf((r, c) => {
    const u = c - 13.5 - dx, v = r - 13.5 - dy;
    const sx = cos * u - sin * v + 13.5, sy = sin * u + cos * v + 13.5;
    const c0 = Math.floor(sx), r0 = Math.floor(sy), fx = sx - c0, fy = sy - r0;
    return (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c0 + 1)) +
      fy * ((1 - fx) * at(r0 + 1, c0) + fx * at(r0 + 1, c0 + 1));
  });
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  assert.equal(actual.length, expected.length);
  let worst = 0, where = -1;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= worst)) [worst, where] = [error, i];
  }
  assert.ok(
    worst <= tolerance,
    `pixel ${where} (row ${Math.floor(where / SIDE)}, col ${where % SIDE}): ` +
      `${actual[where]} vs ${expected[where]}`,
  );
}

Deno.test("transformImage() with no rotation and no shift returns the image unchanged", () => {
  for (const image of [noiseImage(1), blobImage(2), new Float32Array(PIXELS)]) {
    assert.deepEqual(transformImage(image, {}), image);
    assert.deepEqual(rotateImage(image, 0), image);
    assert.deepEqual(rotateImage(image, 360), image);
  }
});

Deno.test("rotateImage() by quarter turns is an exact pixel permutation", async (t) => {
  // Counter-clockwise on screen: the top row becomes the left column, read bottom-up, exactly what
  // numpy's rot90 does: out[r][c] = src[c][27 − r].
  const cases: [number, (r: number, c: number) => [number, number]][] = [
    [90, (r, c) => [c, 27 - r]],
    [-270, (r, c) => [c, 27 - r]],
    [180, (r, c) => [27 - r, 27 - c]],
    [-90, (r, c) => [27 - c, r]],
    [270, (r, c) => [27 - c, r]],
  ];
  for (const [angle, from] of cases) {
    await t.step(`${angle}°`, () => {
      for (const src of [noiseImage(3), blobImage(4)]) {
        const expected = imageOf((r, c) => {
          const [sr, sc] = from(r, c);
          return src[sr * SIDE + sc];
        });
        assert.deepEqual(rotateImage(src, angle), expected);
      }
    });
  }
});

Deno.test("rotateImage() by 180° twice is the identity", () => {
  for (const src of [noiseImage(5), blobImage(6)]) {
    assert.deepEqual(rotateImage(rotateImage(src, 180), 180), src);
  }
});

Deno.test("transformImage() shifts by whole pixels and fills with zeros", async (t) => {
  for (const [dx, dy] of [[1, 0], [0, 1], [-2, 3], [3, -1], [-5, -5], [27, 0], [0, -28]]) {
    await t.step(`dx ${dx}, dy ${dy}`, () => {
      const src = noiseImage(7);
      const expected = imageOf((r, c) => {
        const sr = r - dy, sc = c - dx;
        return sr >= 0 && sr < SIDE && sc >= 0 && sc < SIDE ? src[sr * SIDE + sc] : 0;
      });
      assert.deepEqual(transformImage(src, { dx, dy }), expected);
    });
  }
});

Deno.test("rotateImage() moves a bright pixel where the rotation matrix says", async (t) => {
  // Forward map with y down: (u, v) = (c − 13.5, r − 13.5) goes to
  // (cos θ·u + sin θ·v, −sin θ·u + cos θ·v), which turns counter-clockwise on screen.
  // Bilinear sampling spreads the pixel over its neighbours: the spread sums to 1 only
  // approximately on a rotated grid (0.93–1.08 in these cases), and its centroid lies within a
  // few hundredths of a pixel of the exact spot.
  const cases: [number, number, number][] = [[5, 20, 30], [20, 8, -17], [10, 14, 73], [3, 3, 10]];
  for (const [r, c, angle] of cases) {
    await t.step(`pixel (${r}, ${c}) by ${angle}°`, () => {
      const src = new Float32Array(PIXELS);
      src[r * SIDE + c] = 1;
      const out = rotateImage(src, angle);
      const theta = (angle * Math.PI) / 180, u = c - 13.5, v = r - 13.5;
      const x = Math.cos(theta) * u + Math.sin(theta) * v + 13.5;
      const y = -Math.sin(theta) * u + Math.cos(theta) * v + 13.5;
      const mass = sum(out);
      let cx = 0, cy = 0, brightest = 0;
      out.forEach((p, i) => {
        cx += (p * (i % SIDE)) / mass;
        cy += (p * Math.floor(i / SIDE)) / mass;
        if (p > out[brightest]) brightest = i;
      });
      assert.ok(Math.abs(mass - 1) < 0.1, `mass ${mass}`);
      assert.ok(Math.hypot(cx - x, cy - y) < 0.1, `centroid (${cx}, ${cy}), expected (${x}, ${y})`);
      assert.equal(brightest, Math.round(y) * SIDE + Math.round(x));
    });
  }
});

Deno.test("rotateImage() keeps the mass of a centred digit for small rotations", () => {
  const before = sum(RING);
  for (const angle of [1, 5, -10, 15]) {
    const after = sum(rotateImage(RING, angle));
    assert.ok(Math.abs(after / before - 1) < 0.005, `${angle}°: ${after} vs ${before}`);
  }
});

Deno.test("transformImage() agrees with torchvision's rotate/affine on tensors", async (t) => {
  // Reference values from torchvision's recipe (its _get_inverse_affine_matrix with the sign of
  // F.rotate, _gen_affine_grid, then grid_sample bilinear, zeros padding, align_corners=False) in
  // float64 with PyTorch 1.13 (transcribed from torchvision's source, which is not installed
  // here), on the same formula images. [row, column, value].
  const digit = imageOf((r, c) =>
    r >= 6 && r <= 21 && c >= 8 && c <= 19 ? ((r * 5 + c * 3) % 7) / 6 : 0
  );
  const full = imageOf((r, c) => ((r * 3 + c * 5) % 11) / 10);
  const cases: [
    string,
    Float32Array,
    number,
    number,
    number,
    number,
    [number, number, number][],
  ][] = [
    ["a digit clear of the border", digit, 33, 1.25, -0.5, 97.25845345387185, [
      [3, 15, 0.105262391269207],
      [7, 14, 0.563916802406311],
      [9, 13, 0.5413748621940613],
      [11, 8, 0.5942608118057251],
      [12, 18, 0.3426523208618164],
      [14, 12, 0.28701767325401306],
      [15, 22, 0.5368837118148804],
      [17, 16, 0.3397306799888611],
      [19, 15, 0.5999727845191956],
      [23, 14, 0.11077428609132767],
      [0, 0, 0],
      [14, 5, 0],
    ]],
    ["an image filling the frame", full, -20, 0.5, 1.75, NaN, [
      [0, 5, 0.5576687455177307],
      [0, 14, 0.0898468866944313],
      [1, 27, 0],
      [2, 0, 0],
      [13, 0, 0.2599010169506073],
      [13, 27, 0.313953697681427],
      [27, 13, 0.4085324704647064],
      [26, 26, 0],
      [14, 14, 0.3338526785373688],
      [6, 21, 0.43655097484588623],
    ]],
  ];
  for (const [name, src, angle, dx, dy, total, pixels] of cases) {
    await t.step(name, () => {
      const out = transformImage(src, { angle, dx, dy });
      for (const [r, c, value] of pixels) {
        assert.ok(Math.abs(out[r * SIDE + c] - value) < 1e-6, `(${r}, ${c}): ${out[r * SIDE + c]}`);
      }
      if (!Number.isNaN(total)) assert.ok(Math.abs(sum(out) - total) < 1e-4, `sum ${sum(out)}`);
    });
  }
});

Deno.test("transformImage() matches a direct bilinear reference for random transforms", () => {
  const rng = createRng(11);
  for (let k = 0; k < 60; k++) {
    // Alternate digit-like images, frame-filling noise, and a digit pushed against an edge.
    const src = k % 3 === 0
      ? noiseImage(k)
      : k % 3 === 1
      ? blobImage(k)
      : transformImage(blobImage(k), { dx: 7 * Math.sign(rng() - 0.5), dy: 5 });
    const angle = (2 * rng() - 1) * 180, dx = (2 * rng() - 1) * 6, dy = (2 * rng() - 1) * 6;
    assertClose(
      transformImage(src, { angle, dx, dy }),
      referenceTransform(src, angle, dx, dy),
      1e-6,
    );
  }
});

Deno.test("transformImage() writes into out and leaves src alone", () => {
  const src = blobImage(12), copy = src.slice(), out = new Float32Array(PIXELS).fill(9);
  const result = transformImage(src, { angle: 12, dx: 1 }, out);
  assert.equal(result, out);
  assert.deepEqual(src, copy);
  assert.deepEqual(out, transformImage(src, { angle: 12, dx: 1 }));
});

Deno.test("augmentImages() is reproducible per seed and epoch and differs across them", () => {
  const images = new Float32Array([...blobImage(1), ...blobImage(2), ...RING]);
  const a = augmentImages(images, { seed: 4, epoch: 1 });
  assert.deepEqual(augmentImages(images, { seed: 4, epoch: 1 }), a);
  assert.notDeepEqual(augmentImages(images, { seed: 4, epoch: 2 }), a);
  assert.notDeepEqual(augmentImages(images, { seed: 5, epoch: 1 }), a);
  assert.notDeepEqual(a, images);
});

Deno.test("augmentImages() gives each image the transform randomTransforms() draws", () => {
  const images = new Float32Array([...blobImage(1), ...noiseImage(2), ...RING, ...blobImage(3)]);
  const options = { maxRotation: 20, maxShift: 3, seed: 8, epoch: 5 };
  const out = augmentImages(images, options);
  const { angle, dx, dy } = randomTransforms(4, options);
  for (let i = 0; i < 4; i++) {
    const image = images.subarray(i * PIXELS, (i + 1) * PIXELS);
    assertClose(
      out.subarray(i * PIXELS, (i + 1) * PIXELS),
      referenceTransform(image, angle[i], dx[i], dy[i]),
      1e-6,
    );
  }
});

Deno.test("augmentImages() keeps values in [0, 1] and the image count", () => {
  const images = new Float32Array([...noiseImage(1), ...imageOf(() => 1), ...RING]);
  const out = augmentImages(images, { maxRotation: 45, maxShift: 4, seed: 2 });
  assert.equal(out.length, images.length);
  assert.ok(out.every((v) => v >= 0 && v <= 1));
});

Deno.test("randomTransforms() draws uniformly within the ranges", async (t) => {
  const n = 20_000;
  await t.step("real-valued shifts", () => {
    const { angle, dx, dy } = randomTransforms(n, { maxRotation: 15, maxShift: 2, seed: 1 });
    for (const [values, max] of [[angle, 15], [dx, 2], [dy, 2]] as const) {
      const xs = Array.from(values);
      assert.ok(xs.every((x) => Math.abs(x) <= max));
      // Uniform on [−m, m]: mean 0 (standard error m/√(3n) ≈ 0.004·m), variance m²/3.
      assert.ok(Math.abs(sum(xs) / n) < 0.02 * max);
      assert.ok(Math.abs(sum(xs.map((x) => x * x)) / n / (max * max / 3) - 1) < 0.03);
      assert.ok(Math.min(...xs) < -0.99 * max && Math.max(...xs) > 0.99 * max);
    }
  });
  await t.step("whole-pixel shifts", () => {
    const { dx } = randomTransforms(n, { maxShift: 2, integerShifts: true, seed: 1 });
    const counts = new Map<number, number>();
    for (const x of dx) counts.set(x, (counts.get(x) ?? 0) + 1);
    // round(uniform(−2, 2)): ±2 with probability 1/8 each, −1, 0, 1 with 1/4 each.
    assert.deepEqual([...counts.keys()].sort(), [-1, -2, 0, 1, 2]);
    for (const [value, p] of [[-2, 1 / 8], [-1, 1 / 4], [0, 1 / 4], [1, 1 / 4], [2, 1 / 8]]) {
      assert.ok(Math.abs(counts.get(value)! / n - p) < 0.015, `P(${value})`);
    }
  });
});

Deno.test("rotateImages() turns every image by the same angle", () => {
  const images = new Float32Array([...blobImage(1), ...noiseImage(2)]);
  const out = rotateImages(images, 30);
  for (let i = 0; i < 2; i++) {
    const image = images.subarray(i * PIXELS, (i + 1) * PIXELS);
    assertClose(
      out.subarray(i * PIXELS, (i + 1) * PIXELS),
      referenceTransform(image, 30, 0, 0),
      1e-6,
    );
  }
});

Deno.test("randomlyRotateImages() turns each image by its own angle within ±maxRotation", () => {
  // A single bright pixel far from the centre: the angle of its centroid around the centre after
  // rotation says how far each image turned.
  const count = 400, u = 9, v = 0; // the pixel 9 columns right of the centre, row 13.5 ± 0.5
  const src = new Float32Array(count * PIXELS);
  for (let i = 0; i < count; i++) src[i * PIXELS + 13 * SIDE + 22] = 1;
  const out = randomlyRotateImages(src, { maxRotation: 30, seed: 3 });
  assert.deepEqual(randomlyRotateImages(src, { maxRotation: 30, seed: 3 }), out);
  assert.notDeepEqual(randomlyRotateImages(src, { maxRotation: 30, seed: 4 }), out);
  const before = Math.atan2(-(13 - 13.5 + v), u) * (180 / Math.PI); // counter-clockwise, y up
  const turns: number[] = [];
  for (let i = 0; i < count; i++) {
    const image = out.subarray(i * PIXELS, (i + 1) * PIXELS);
    const mass = sum(image);
    let cx = 0, cy = 0;
    image.forEach((p, j) => {
      cx += (p * (j % SIDE)) / mass;
      cy += (p * Math.floor(j / SIDE)) / mass;
    });
    turns.push(Math.atan2(-(cy - 13.5), cx - 13.5) * (180 / Math.PI) - before);
  }
  // Centroids sit within 0.1 px of the exact spot, about 0.6° at 9 px from the centre.
  assert.ok(
    turns.every((a) => Math.abs(a) <= 30.7),
    `${Math.min(...turns)} … ${Math.max(...turns)}`,
  );
  assert.ok(Math.min(...turns) < -27 && Math.max(...turns) > 27);
  assert.ok(Math.abs(sum(turns) / count) < 3); // mean 0, standard error 30/√(3·400) ≈ 0.9
});

Deno.test("randomlyRotateImages() with maxRotation 0 copies the images", () => {
  const images = new Float32Array([...noiseImage(1), ...blobImage(2)]);
  const out = randomlyRotateImages(images, { maxRotation: 0 });
  assert.deepEqual(out, images);
  assert.notEqual(out, images);
});

Deno.test("augmenter() gives train() a fresh, reproducible augmentation per epoch", () => {
  const images = new Float32Array([...blobImage(1), ...RING]);
  const augment = augmenter({ maxRotation: 10, maxShift: 1, seed: 6 });
  const epoch1 = augment(images, 1);
  assert.deepEqual(
    epoch1,
    augmentImages(images, { maxRotation: 10, maxShift: 1, seed: 6, epoch: 1 }),
  );
  assert.deepEqual(augment(images, 1), epoch1);
  assert.notDeepEqual(augment(images, 2), epoch1);
});

Deno.test("augmenter() plugs into train(), which asks for new images every epoch", async () => {
  const count = 96;
  const images = new Float32Array(count * PIXELS);
  for (let i = 0; i < count; i++) images.set(blobImage(i), i * PIXELS);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const augment = augmenter({ seed: 1 });
  const calls: { epoch: number; sameInput: boolean; changed: boolean }[] = [];
  const model = createModel({ seed: 0 });
  const result = await train(model, { images, labels, count }, {
    epochs: 3,
    batchSize: 32,
    augment: (input, epoch) => {
      const out = augment(input, epoch);
      calls.push({
        epoch,
        sameInput: input === images,
        changed: out.some((v, i) => v !== input[i]),
      });
      return out;
    },
  });
  model.dispose();
  assert.equal(result.epochs, 3);
  assert.deepEqual(calls, [1, 2, 3].map((epoch) => ({ epoch, sameInput: true, changed: true })));
});

Deno.test("augment functions reject bad input with messages in lib's grammar", async (t) => {
  const image = new Float32Array(PIXELS);
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    [
      "length not a multiple of 784",
      () => augmentImages(new Float32Array(785)),
      RangeError,
      /^Cannot augment images: the length of images is 785, expected a multiple of 784 \(28 × 28 pixels\)$/,
    ],
    [
      "rotateImages length",
      () => rotateImages(new Float32Array(100), 10),
      RangeError,
      /^Cannot rotate images: the length of images is 100, expected a multiple of 784 \(28 × 28 pixels\)$/,
    ],
    [
      "not a Float32Array",
      () => augmentImages([0, 1] as unknown as Float32Array),
      TypeError,
      /^Cannot augment images: images is an Array, expected a Float32Array of n × 784 pixels$/,
    ],
    [
      "NaN angle",
      () => rotateImage(image, NaN),
      RangeError,
      /^Cannot rotate the image: angleDegrees is NaN, expected a finite number$/,
    ],
    [
      "infinite fixed angle",
      () => rotateImages(image, Infinity),
      RangeError,
      /^Cannot rotate images: angleDegrees is Infinity, expected a finite number$/,
    ],
    [
      "NaN shift",
      () => transformImage(image, { dx: NaN }),
      RangeError,
      /^Cannot transform the image: transform\.dx is NaN, expected a finite number$/,
    ],
    [
      "single image of the wrong size",
      () => rotateImage(new Float32Array(2 * PIXELS), 5),
      RangeError,
      /^Cannot transform the image: the length of src is 1568, expected 784, one 28 × 28 image$/,
    ],
    [
      "out of the wrong size",
      () => rotateImage(image, 5, new Float32Array(10)),
      RangeError,
      /^Cannot transform the image: the length of out is 10, expected 784, one 28 × 28 image$/,
    ],
    [
      "out sharing memory with src",
      () => rotateImage(image, 5, image),
      RangeError,
      /^Cannot transform the image: out is a view of src's memory, expected a separate array$/,
    ],
    [
      "negative maxRotation",
      () => augmentImages(image, { maxRotation: -1 }),
      RangeError,
      /^Cannot draw random transforms: option maxRotation is -1, expected a number ≥ 0$/,
    ],
    [
      "NaN maxShift",
      () => augmenter({ maxShift: NaN }),
      RangeError,
      /^Cannot draw random transforms: option maxShift is NaN, expected a finite number$/,
    ],
    [
      "fractional epoch",
      () => augmentImages(image, { epoch: 1.5 }),
      RangeError,
      /^Cannot draw random transforms: option epoch is 1\.5, expected a non-negative integer$/,
    ],
    [
      "random rotation range",
      () => randomlyRotateImages(image, { maxRotation: -5 }),
      RangeError,
      /^Cannot rotate images at random: option maxRotation is -5, expected a number ≥ 0$/,
    ],
  ];
  for (const [name, call, type, message] of cases) {
    await t.step(
      name,
      () => assert.throws(call, (e: Error) => e instanceof type && message.test(e.message)),
    );
  }
});
