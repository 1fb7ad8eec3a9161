import assert from "node:assert/strict";
import {
  connectionFileFromCmdline,
  encodeFrame,
  type Frame,
  FrameReader,
  iopubAddress,
  MARKER_PREFIX,
  MARKER_TYPE,
  markerOf,
  zmtpGreeting,
  zmtpReady,
} from "../../lib/notebook/iopub_barrier.ts";

const encoder = new TextEncoder();

/** A Jupyter message as the kernel frames it: no identities, the delimiter, then six parts. */
function jupyterMessage(msgType: string, content: unknown): Uint8Array[] {
  return ["<IDS|MSG>", "signature", JSON.stringify({ msg_type: msgType }), "{}", "{}"]
    .concat(JSON.stringify(content)).map((part) => encoder.encode(part));
}

function wire(parts: Uint8Array[]): Uint8Array {
  const frames = parts.map((part, i) => encodeFrame(part, i < parts.length - 1 ? 1 : 0));
  const bytes = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
  frames.reduce((at, f) => (bytes.set(f, at), at + f.length), 0);
  return bytes;
}

Deno.test("encodeFrame() writes ZMTP 3.0's short and long frames", () => {
  assert.deepEqual([...encodeFrame(new Uint8Array([7, 8]), 1)], [0x01, 2, 7, 8]);
  const long = encodeFrame(new Uint8Array(256).fill(9));
  assert.equal(long[0], 0x02, "LONG flag, no MORE");
  assert.deepEqual([...long.subarray(1, 9)], [0, 0, 0, 0, 0, 0, 1, 0], "size 256, big-endian");
  assert.equal(long.length, 9 + 256);
  const command = encodeFrame(new Uint8Array(3), 0x04 | 0x02); // LONG is not the caller's to set
  assert.deepEqual([...command.subarray(0, 2)], [0x04, 3]);
});

Deno.test("the handshake: a NULL greeting as client, and READY naming the socket type", () => {
  const greeting = zmtpGreeting();
  assert.equal(greeting.length, 64);
  assert.deepEqual([greeting[0], greeting[9], greeting[10], greeting[11]], [0xff, 0x7f, 3, 0]);
  assert.equal(new TextDecoder().decode(greeting.subarray(12, 16)), "NULL");
  assert.equal(greeting[32], 0, "as-server is 0");
  const ready = zmtpReady("SUB");
  // flags, size, then: 5 "READY" 11 "Socket-Type" 0 0 0 3 "SUB"
  assert.equal(ready[0], 0x04);
  assert.equal(ready[1], ready.length - 2);
  assert.equal(
    new TextDecoder().decode(ready.subarray(2)),
    "\x05READY\x0bSocket-Type\0\0\0\x03SUB",
  );
});

Deno.test("FrameReader splits messages whatever the chunks they arrive in", () => {
  const first = jupyterMessage("stream", { text: "a".repeat(400) });
  const second = jupyterMessage("status", { execution_state: "idle" });
  const bytes = new Uint8Array([
    ...encodeFrame(encoder.encode("\x05READY"), 0x04),
    ...wire(first),
    ...wire(second),
  ]);
  const expected = [[encoder.encode("\x05READY")], first, second];
  for (const chunk of [1, 2, 7, 64, 1000, bytes.length]) {
    const reader = new FrameReader();
    const messages: Frame[][] = [];
    for (let at = 0; at < bytes.length; at += chunk) {
      messages.push(...reader.push(bytes.subarray(at, at + chunk)));
    }
    assert.deepEqual(messages.map((m) => m.map((f) => f.body)), expected, `chunks of ${chunk}`);
    assert.deepEqual(messages.map((m) => m[0].command), [true, false, false]);
  }
});

Deno.test("markerOf() recognises the barrier's markers and nothing else", () => {
  const frames = (parts: Uint8Array[]) => parts.map((body) => ({ body, command: false }));
  const id = `${MARKER_PREFIX}-x-1`;
  assert.equal(
    markerOf(frames(jupyterMessage(MARKER_TYPE, { transient: { display_id: id } }))),
    id,
  );
  // A frontend's own display update, a display with the marker's id, a message without delimiter.
  const other = { transient: { display_id: "progress-1" } };
  assert.equal(markerOf(frames(jupyterMessage(MARKER_TYPE, other))), undefined);
  assert.equal(
    markerOf(frames(jupyterMessage("display_data", { transient: { display_id: id } }))),
    undefined,
  );
  assert.equal(markerOf(frames(jupyterMessage(MARKER_TYPE, {}))), undefined);
  assert.equal(markerOf(frames([encoder.encode("topic")])), undefined);
});

Deno.test("the connection file comes from the kernel's command line", () => {
  const line = (...args: string[]) => [...args, ""].join("\0");
  assert.equal(
    connectionFileFromCmdline(
      line("/usr/bin/deno", "jupyter", "--kernel", "--conn", "/tmp/k.json"),
    ),
    "/tmp/k.json",
  );
  assert.equal(connectionFileFromCmdline(line("deno", "jupyter", "--conn=/a b.json")), "/a b.json");
  assert.equal(connectionFileFromCmdline(line("deno", "jupyter", "--conn")), undefined);
  assert.equal(connectionFileFromCmdline(line("deno", "repl")), undefined);
});

Deno.test("iopubAddress() reads ip and iopub_port, and names the file when they are wrong", () => {
  assert.deepEqual(
    iopubAddress('{"ip": "127.0.0.1", "iopub_port": 40001, "transport": "tcp"}', "k.json"),
    { ip: "127.0.0.1", port: 40001 },
  );
  assert.throws(
    () => iopubAddress('{"ip": "kernel.sock", "iopub_port": 1, "transport": "ipc"}', "/tmp/k.json"),
    (error: Error) =>
      error instanceof TypeError && error.message.startsWith("/tmp/k.json: expected a TCP") &&
      error.message.includes('transport "ipc"'),
  );
  assert.throws(() => iopubAddress('{"ip": "127.0.0.1"}', "k.json"), /iopub_port undefined/);
});
