import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildReports, renderIndex, type ReportEntry } from "../../lib/tools/report.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** `<tr>` rows of the index, keyed by the notebook file named in each. */
function indexRows(html: string): Map<string, string> {
  const rows = html.match(/<tr[\s\S]*?<\/tr>/g) ?? [];
  return new Map(rows.map((row) => [/class="file">([^<]+)</.exec(row)?.[1] ?? "", row]));
}

Deno.test("buildReports() writes a report per notebook and an index marking the failure", async (t) => {
  const reportsDir = await Deno.makeTempDir();
  let progress = "";
  const write = (text: string) => progress += text;

  await t.step("all notebooks", async () => {
    const { entries, failures } = await buildReports({
      notebooksDir: FIXTURES,
      reportsDir,
      quick: true,
      write,
    });
    assert.deepEqual(entries.map((e) => [e.notebook, e.status]), [
      ["failing.ipynb", "failed"],
      ["passing.ipynb", "ok"],
    ]);
    assert.equal(failures.length, 1);
    assert.match(failures[0].message, /failing\.ipynb" failed in cell 3 /);

    const lines = progress.trimEnd().split("\n");
    assert.equal(lines.length, 2, progress);
    assert.match(lines[0], /^failing\.ipynb +quick +FAILED .* cell 3 \(code cell 2\): RangeError/);
    assert.match(lines[1], /^passing\.ipynb +quick +ok .*passing\.html$/);

    const files = [...Deno.readDirSync(reportsDir)].map((e) => e.name).sort();
    assert.deepEqual(files, ["failing.html", "index.html", "index.json", "passing.html"]);
    const rows = indexRows(await Deno.readTextFile(join(reportsDir, "index.html")));
    assert.match(
      rows.get("passing.ipynb")!,
      /<a href="passing.html">Fixture: a passing notebook<\/a>/,
    );
    assert.match(rows.get("passing.ipynb")!, /draws an <strong>Observable Plot<\/strong> chart/);
    assert.match(rows.get("passing.ipynb")!, /badge-ok.*quick profile/s);
    assert.match(rows.get("failing.ipynb")!, /badge-failed/);
    assert.match(rows.get("failing.ipynb")!, /cell 3 \(code cell 2\): RangeError: Fixture failure/);
  });

  await t.step("one notebook by name keeps the others' last results", async () => {
    const before = JSON.parse(await Deno.readTextFile(join(reportsDir, "index.json"))).entries;
    progress = "";
    const { entries, failures } = await buildReports({
      notebooksDir: FIXTURES,
      reportsDir,
      names: ["passing"],
      quick: false,
      write,
    });
    assert.equal(failures.length, 0);
    assert.equal(progress.trimEnd().split("\n").length, 1);
    assert.deepEqual(entries[0], before[0]);
    assert.equal(entries[1].profile, "full");
    assert.notEqual(entries[1].ranAt, before[1].ranAt);
  });

  await t.step("an unknown name lists the notebooks", async () => {
    await assert.rejects(
      buildReports({ notebooksDir: FIXTURES, reportsDir, names: ["03_nope"], write }),
      (error: Error) =>
        error instanceof RangeError &&
        /"03_nope".*failing\.ipynb, passing\.ipynb/.test(error.message),
    );
  });
  await Deno.remove(reportsDir, { recursive: true });
});

Deno.test("renderIndex() escapes text and links only notebooks that ran", async (t) => {
  const base: ReportEntry = {
    notebook: "01_a.ipynb",
    title: "Tags <b> & co",
    summary: 'Learn `<svg>` and [links](https://example.org) with "quotes".',
    html: "01_a.html",
    status: "ok",
    ranAt: "2025-01-02T03:04:05.000Z",
    seconds: 125,
    profile: "full",
  };
  await t.step("ok", () => {
    const html = renderIndex([base], { generatedAt: new Date("2025-01-02T04:00:00Z") });
    assert.match(html, /<a href="01_a.html">Tags &lt;b&gt; &amp; co<\/a>/);
    assert.match(
      html,
      /Learn <code>&lt;svg&gt;<\/code> and <a href="https:\/\/example.org">links<\/a>/,
    );
    assert.match(html, /ran 2025-01-02 03:04 UTC/);
    assert.match(html, /took 2 min 5 s, full profile/);
    assert.match(html, /Generated 2025-01-02 04:00 UTC/);
    assert.doesNotMatch(html, /class="badge badge-failed"|failed<\/strong>/);
  });
  await t.step("not run", () => {
    const { notebook, title, summary, html: page } = base;
    const html = renderIndex([{ notebook, title, summary, html: page, status: "not run" }]);
    assert.doesNotMatch(html, /href="01_a.html"/);
    assert.match(html, /badge-not-run">not run</);
  });
  await t.step("failed", () => {
    const html = renderIndex([{
      ...base,
      status: "failed",
      failure: "cell 2 (code cell 1): E: <x>",
    }]);
    assert.match(html, /1 notebook, <strong>1 failed<\/strong>/);
    assert.match(html, /cell 2 \(code cell 1\): E: &lt;x&gt;/);
  });
});

Deno.test("deno task report exits non-zero and says why for an unknown notebook", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(new URL("../../lib/tools/report.ts", import.meta.url)),
      "no_such",
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 1);
  assert.match(
    new TextDecoder().decode(output.stderr),
    /Cannot run notebook "no_such": it is missing from .*, expected one of 01_data/,
  );
});

Deno.test("renderIndex() links the playground and the lab only when they are given", () => {
  const entry: ReportEntry = {
    notebook: "01_a.ipynb",
    title: "A",
    summary: "",
    html: "01_a.html",
    status: "not run",
  };
  const without = renderIndex([entry]);
  assert.doesNotMatch(without, /lab\.html|playground\.html/);
  const both = renderIndex([entry], { playground: "playground.html", lab: "lab.html" });
  assert.match(both, /<a href="playground.html">Playground<\/a>/);
  assert.match(
    both,
    /<a href="lab.html">Learning-rate lab<\/a>: train the network at several rates/,
  );
});
