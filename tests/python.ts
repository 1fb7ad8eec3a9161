/**
 * Test helper: runs a short program in Debian's Python (an independent reference for PNG and XML
 * checks), feeding it bytes on standard input.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Runs `script` with `/usr/bin/python3 -c`, writes `input` to its standard input, and fails the test
 * with Python's error output if it exits non-zero.
 *
 * @param script The Python program.
 * @param input Bytes for its standard input.
 * @returns Its standard output as text.
 */
export async function python(script: string, input: Uint8Array): Promise<string> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script],
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
