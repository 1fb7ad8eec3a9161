/**
 * The `@example` code blocks of a folder's TypeScript files, each turned into a module that runs it
 * (see `doc_examples_test.ts`).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** One ```ts block of a JSDoc comment. */
export interface DocExample {
  /** The file it documents. */
  file: string;
  /** Line of the opening fence, from 1 (as `deno test --doc` names it). */
  line: number;
  /** The code, comment stars removed. */
  code: string;
  /**
   * The module that runs it: its imports first (relative ones made absolute against `folder`),
   * then a default export that brings the documented file's exports into scope and runs the rest.
   */
  module(exported: readonly string[], folder: string): string;
}

const FENCE = /^\s*\* ?```(\S*)(.*)$/;
const IMPORT = /^import\s.*?from\s+["']([^"']+)["'];?\s*$/;
const IMPORTED_NAMES = /^import\s+(?:\*\s+as\s+(\w+)|(\w+)?\s*,?\s*(?:\{([^}]*)\})?)\s+from/;

/**
 * Finds the runnable examples in one file's text: fenced blocks marked `ts` (not `ts ignore`)
 * inside `/** … *\/` comments.
 *
 * @param file The file's path (for names and for the module the example documents).
 * @param text The file's content.
 * @returns The examples in order.
 */
export function examplesIn(file: string, text: string): DocExample[] {
  const lines = text.split("\n");
  const found: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (open === null || open[1] === "") continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE.test(lines[i]); i++) {
      body.push(lines[i].replace(/^\s*\* ?/, ""));
    }
    const runnable = ["ts", "typescript"].includes(open[1]) && !/\bignore\b/.test(open[2]);
    if (runnable) found.push(example(file, start + 1, body.join("\n")));
  }
  return found;
}

function example(file: string, line: number, code: string): DocExample {
  return {
    file,
    line,
    code,
    module(exported, folder) {
      const imports: string[] = [], rest: string[] = [];
      const own = new Set<string>();
      for (const text of code.split("\n")) {
        const found = text.match(IMPORT);
        if (found === null) {
          rest.push(text);
          continue;
        }
        const specifier = found[1];
        const absolute = specifier.startsWith(".")
          ? pathToFileURL(resolve(folder, specifier)).href
          : specifier;
        imports.push(text.replace(specifier, absolute));
        for (const name of importedNames(text)) own.add(name);
      }
      // As Deno does: the documented file's exports are in scope unless the example imports the
      // name itself; names the example declares shadow them, being in an inner block.
      const inScope = exported.filter((name) => !own.has(name) && name !== "default");
      return [
        ...imports,
        `import * as documented from ${JSON.stringify(pathToFileURL(file).href)};`,
        "export default async function () {",
        `  const { ${inScope.join(", ")} } = documented;`,
        "  {",
        ...rest.map((text) => `    ${text}`),
        "  }",
        "}",
        "",
      ].join("\n");
    },
  };
}

/** The local names an import line binds. */
function importedNames(line: string): string[] {
  const match = line.match(IMPORTED_NAMES);
  if (match === null) return [];
  const [, namespace, defaultName, named] = match;
  const names = (named ?? "").split(",").map((part) => part.trim().split(/\s+as\s+/).at(-1)!);
  return [namespace, defaultName, ...names].filter((name): name is string => !!name);
}

/**
 * Every example of the `.ts` files under a folder, files in sorted order.
 *
 * @param folder The folder to search.
 * @returns The examples.
 */
export async function docExamples(folder: string): Promise<DocExample[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk(folder);
  const examples = [];
  for (const file of files.sort()) {
    examples.push(...examplesIn(file, await Deno.readTextFile(file)));
  }
  return examples;
}
