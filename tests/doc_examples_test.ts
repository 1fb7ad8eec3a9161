/**
 * Every `@example` of `lib/` runs, as `deno test --doc` would run it, but all in one isolate.
 *
 * `deno test --doc` makes each of the 178 examples a module of its own and gives each module a fresh
 * isolate; on these machines, where fresh memory is slow to touch, that costs about 0.3 s an
 * example (a minute in all) for code that runs in milliseconds. Here each example is still a
 * module of its own, loaded with a dynamic import, with the same two conveniences Deno gives it:
 * its imports stay at the top, and every export of the file it documents is in scope. Types are
 * checked by `deno check --doc` (in `deno task check`); `deno test --doc lib/` still runs them
 * Deno's way.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { docExamples, examplesIn } from "./doc_examples.ts";

const LIB = join(PROJECT_ROOT, "lib");
const examples = await docExamples(LIB);
/** The generated modules live under the project, so `deno.json`'s imports resolve for them. */
const folder = await Deno.makeTempDir({ dir: PROJECT_ROOT, prefix: ".doc-examples-" });
globalThis.addEventListener("unload", () => Deno.removeSync(folder, { recursive: true }));

Deno.test("lib/ documents its exports with examples that run", () => {
  // A parser that silently found nothing would pass every step below.
  assert.ok(examples.length >= 100, `found only ${examples.length} examples in ${LIB}`);
});

Deno.test("examplesIn() takes ts blocks of doc comments, not ignored or other languages", () => {
  const text = [
    "/**", //
    " * ```ts",
    ' * import { x } from "./x.ts";',
    " * const double = twice(x);",
    " * ```",
    " * ```ts ignore",
    " * notRun();",
    " * ```",
    " * ```sh",
    " * deno task test",
    " * ```",
    " */",
  ].join("\n");
  const found = examplesIn("/p/lib/a.ts", text);
  assert.deepEqual(found.map(({ line, code }) => ({ line, code })), [
    { line: 2, code: 'import { x } from "./x.ts";\nconst double = twice(x);' },
  ]);
  const module = found[0].module(["twice", "x", "double"], "/p/lib");
  assert.match(module, /^import \{ x \} from "file:\/\/\/p\/lib\/x\.ts";$/m);
  // The example's own import wins over the documented file's export of the same name; its own
  // declaration (double) shadows the export from an inner block.
  assert.match(module, /const \{ twice, double \} = documented;/);
});

for (const [file, group] of Map.groupBy(examples, (example) => example.file)) {
  const name = relative(PROJECT_ROOT, file);
  Deno.test(`examples in ${name}`, async (t) => {
    const exported = Object.keys(await import(pathToFileURL(file).href));
    for (const example of group) {
      await t.step(`${name}#${example.line}`, async () => {
        const path = join(folder, `${name.replaceAll("/", "_")}_${example.line}.ts`);
        await Deno.writeTextFile(path, example.module(exported, dirname(file)));
        const module = await import(pathToFileURL(path).href);
        await module.default();
      });
    }
  });
}
