/**
 * Test helper: runs a Python program (a `.py` file beside its test) in Debian's Python, an
 * independent reference for the PNG and XML checks, feeding it bytes on standard input.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

/**
 * Runs `script` with `/usr/bin/python3`, writes `input` to its standard input, and fails the test
 * with Python's error output if it exits non-zero.
 *
 * @param script The Python program's file.
 * @param input Bytes for its standard input.
 * @returns Its standard output as text.
 */
export async function python(script: URL, input: Uint8Array): Promise<string> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: [fromFileUrl(script)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}
