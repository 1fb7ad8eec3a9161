/**
 * A barrier on the kernel's IOPub channel: resolves once the kernel has *published* everything the
 * cell sent before it, so a cell's last output can never arrive after the cell's `idle` status.
 *
 * Why a barrier and not a pause: Deno's kernel (2.9) queues a cell's displays and prints, and a
 * separate task publishes them one after another, labelled with whichever request is current at
 * that moment; the cell's reply and `idle` are sent straight away. A short pause after each output
 * made late outputs rare, not impossible: on a loaded machine the publishing task can wait longer
 * than any pause (once in a CI run, `jupyter nbconvert --execute` lost a chart that way).
 *
 * How: the cell subscribes to its own kernel's IOPub port (read from the connection file the
 * kernel was started with, `deno jupyter --kernel --conn FILE`), sends a marker through the same
 * queue, and waits until the marker comes back. The queue is published in order, and each message
 * goes to every subscriber before the next one is taken, so when the marker arrives every earlier
 * output has been written to every frontend. The marker is an `update_display_data` for a display
 * id nobody showed, which Jupyter frontends (classic Notebook, JupyterLab, VS Code) and nbclient
 * ignore.
 *
 * Where the connection cannot be found or made (not Linux, another kernel), callers fall back to a
 * pause; see `flush` in `jupyter.ts`.
 *
 * @module
 */

/** ZMTP 3.0's frame flags. */
const MORE = 0x01, LONG = 0x02, COMMAND = 0x04;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const DELIMITER = "<IDS|MSG>";

/** The marker's message type: updates a display, here one that does not exist. */
export const MARKER_TYPE = "update_display_data";

/** Prefix of the markers' display ids, so they are recognisable in a message log. */
export const MARKER_PREFIX = "ann-mnist-iopub-barrier";

/** `Deno.jupyter.broadcast`'s shape, as far as the barrier needs it. */
export type Broadcast = (messageType: string, content: Record<string, unknown>) => unknown;

/** Where a kernel's IOPub socket listens, from its connection file. */
export interface IopubAddress {
  /** Host name or IP address. */
  ip: string;
  /** TCP port. */
  port: number;
}

/**
 * Finds the connection file in a kernel process's command line (`/proc/self/cmdline`: arguments
 * separated by NUL characters).
 *
 * @param cmdline The command line, arguments separated by `"\0"`.
 * @returns The path after `--conn` (or in `--conn=PATH`), or `undefined` if there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cmdline = ["/usr/bin/deno", "jupyter", "--kernel", "--conn", "/tmp/k.json", ""].join("\0");
 * assert.equal(connectionFileFromCmdline(cmdline), "/tmp/k.json");
 * assert.equal(connectionFileFromCmdline("deno\0repl\0"), undefined);
 * ```
 */
export function connectionFileFromCmdline(cmdline: string): string | undefined {
  const args = cmdline.split("\0");
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--conn" && args[i + 1]) return args[i + 1];
    if (args[i].startsWith("--conn=")) return args[i].slice("--conn=".length) || undefined;
  }
  return undefined;
}

/**
 * Reads the IOPub address from a Jupyter connection file's text.
 *
 * @param text The connection file's JSON.
 * @param path The file's path, for the error message.
 * @returns The address.
 * @throws {TypeError} If the file is not a TCP connection file with an `ip` and an `iopub_port`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = '{"ip": "127.0.0.1", "iopub_port": 5555, "transport": "tcp"}';
 * assert.deepEqual(iopubAddress(text, "k.json"), { ip: "127.0.0.1", port: 5555 });
 * ```
 */
export function iopubAddress(text: string, path: string): IopubAddress {
  const info = JSON.parse(text) as Record<string, unknown>;
  const { ip, iopub_port: port, transport = "tcp" } = info;
  if (transport !== "tcp" || typeof ip !== "string" || !Number.isInteger(port)) {
    throw new TypeError(
      `${path}: expected a TCP connection file with "ip" and "iopub_port", found ` +
        `transport ${JSON.stringify(transport)}, ip ${JSON.stringify(ip)}, ` +
        `iopub_port ${JSON.stringify(port)}`,
    );
  }
  return { ip, port: port as number };
}

/**
 * Encodes one ZMTP 3.0 frame.
 *
 * @param body The frame's bytes.
 * @param flags `MORE` (another frame of the message follows) and `COMMAND`, or-ed; `LONG` is set
 * from the size.
 * @returns The frame on the wire.
 */
export function encodeFrame(body: Uint8Array, flags = 0): Uint8Array {
  const long = body.length > 255;
  const frame = new Uint8Array((long ? 9 : 2) + body.length);
  frame[0] = (flags & (MORE | COMMAND)) | (long ? LONG : 0);
  if (long) new DataView(frame.buffer).setBigUint64(1, BigInt(body.length));
  else frame[1] = body.length;
  frame.set(body, long ? 9 : 2);
  return frame;
}

/** ZMTP 3.0's greeting for the NULL mechanism, as a client (as-server 0). */
export function zmtpGreeting(): Uint8Array {
  const greeting = new Uint8Array(64);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3; // version 3.0
  greeting.set(ENCODER.encode("NULL"), 12);
  return greeting;
}

/** The NULL mechanism's READY command, announcing a socket of type `socketType`. */
export function zmtpReady(socketType: string): Uint8Array {
  const name = ENCODER.encode("READY"), key = ENCODER.encode("Socket-Type");
  const value = ENCODER.encode(socketType);
  const body = new Uint8Array(1 + name.length + 1 + key.length + 4 + value.length);
  let at = 0;
  body[at++] = name.length;
  body.set(name, at);
  at += name.length;
  body[at++] = key.length;
  body.set(key, at);
  at += key.length;
  new DataView(body.buffer).setUint32(at, value.length);
  body.set(value, at + 4);
  return encodeFrame(body, COMMAND);
}

/** One ZMTP frame as read. */
export interface Frame {
  /** The frame's bytes. */
  body: Uint8Array;
  /** A command (handshake), not part of a message. */
  command: boolean;
}

/**
 * Splits a byte stream into ZMTP messages (lists of frames), whatever the chunks it arrives in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reader = new FrameReader();
 * const wire = new Uint8Array([...encodeFrame(new Uint8Array([1]), 1), ...encodeFrame(new Uint8Array(300))]);
 * assert.deepEqual(reader.push(wire.subarray(0, 5)), []);
 * const [message] = reader.push(wire.subarray(5));
 * assert.deepEqual(message.map((f) => f.body.length), [1, 300]);
 * ```
 */
export class FrameReader {
  /** Bytes not parsed yet, as they came: a large frame is joined once, when complete. */
  #chunks: Uint8Array[] = [];
  #length = 0;
  /** The frame whose header is read and whose body is still arriving. */
  #frame: { flags: number; size: number } | undefined;
  #frames: Frame[] = [];

  /**
   * Adds bytes read from the socket. The reader keeps `chunk` until it is parsed: do not reuse it.
   *
   * @param chunk The bytes.
   * @returns The messages completed by them, each a list of frames; a command is a message of one.
   */
  push(chunk: Uint8Array): Frame[][] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const messages: Frame[][] = [];
    while (true) {
      if (this.#frame === undefined) {
        if (this.#length < 2) break;
        const flags = this.#peekByte();
        const headerSize = flags & LONG ? 9 : 2;
        if (this.#length < headerSize) break;
        const header = this.#take(headerSize);
        const size = flags & LONG
          ? Number(new DataView(header.buffer, header.byteOffset + 1, 8).getBigUint64(0))
          : header[1];
        this.#frame = { flags, size };
      }
      const { flags, size } = this.#frame;
      if (this.#length < size) break;
      const body = this.#take(size);
      this.#frame = undefined;
      if (flags & COMMAND) {
        messages.push([{ body, command: true }]);
        continue;
      }
      this.#frames.push({ body, command: false });
      if (!(flags & MORE)) messages.push(this.#frames.splice(0));
    }
    return messages;
  }

  #peekByte(): number {
    return this.#chunks[0][0];
  }

  /** Removes the first `size` bytes, copying only when they span chunks. */
  #take(size: number): Uint8Array {
    this.#length -= size;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= size) {
      if (first.length === size) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(size);
      return first.subarray(0, size);
    }
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size;) {
      const chunk = this.#chunks[0];
      const used = Math.min(chunk.length, size - at);
      bytes.set(chunk.subarray(0, used), at);
      at += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return bytes;
  }
}

/**
 * The display id a marker carries, if a Jupyter message (its ZMTP frames) is a barrier marker.
 *
 * @param frames A message's frames: `[identities…, "<IDS|MSG>", signature, header, parent,
 * metadata, content, buffers…]`.
 * @returns The marker's display id, or `undefined` for any other message.
 */
export function markerOf(frames: Frame[]): string | undefined {
  const delimiter = frames.findIndex((f) =>
    f.body.length === DELIMITER.length && DECODER.decode(f.body) === DELIMITER
  );
  if (delimiter < 0 || frames.length < delimiter + 6) return undefined;
  const header = JSON.parse(DECODER.decode(frames[delimiter + 2].body));
  if (header.msg_type !== MARKER_TYPE) return undefined;
  const content = JSON.parse(DECODER.decode(frames[delimiter + 5].body));
  const id = content?.transient?.display_id;
  return typeof id === "string" && id.startsWith(MARKER_PREFIX) ? id : undefined;
}

/**
 * How long the first markers may take before another is sent, while the kernel may not have added
 * the subscription yet: 5 ms, doubling up to 100 ms.
 */
const FIRST_MARKER_MS = [5, 10, 20, 40, 100];

/**
 * A subscription to a kernel's IOPub channel that can wait for its own markers.
 *
 * @example
 * ```ts ignore
 * const barrier = await IopubBarrier.connect({ ip: "127.0.0.1", port: 5555 });
 * await barrier.wait(Deno.jupyter.broadcast); // everything sent before is published
 * ```
 */
export class IopubBarrier {
  readonly #conn: Deno.Conn;
  /** Markers some `wait` still waits for, and those of them that came back. */
  readonly #awaited = new Set<string>();
  readonly #seen = new Set<string>();
  readonly #waiters = new Set<() => void>();
  #subscribed = false;
  #closed: Error | undefined;
  #count = 0;
  readonly #session = crypto.randomUUID().slice(0, 8);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Connects to a kernel's IOPub socket as a ZMTP SUB socket subscribed to everything.
   *
   * @param address The kernel's IOPub address.
   * @returns The barrier, reading the channel in the background until closed.
   */
  static async connect(address: IopubAddress): Promise<IopubBarrier> {
    const conn = await Deno.connect({ hostname: address.ip, port: address.port });
    const barrier = new IopubBarrier(conn);
    try {
      await barrier.#handshake();
    } catch (error) {
      barrier.close();
      throw error;
    }
    return barrier;
  }

  /** The error that ended the subscription, if it ended. */
  get closed(): Error | undefined {
    return this.#closed;
  }

  /**
   * Sends a marker through the cell's output queue and resolves once it is published.
   *
   * @param broadcast `Deno.jupyter.broadcast`.
   * @param timeoutMs How long to wait for the marker once subscribed.
   * @returns Resolves when everything sent before the call is published.
   * @throws {Error} If the marker is not seen within `timeoutMs`, or the channel closed; the
   * barrier is closed then.
   */
  async wait(broadcast: Broadcast, timeoutMs = 30_000): Promise<void> {
    if (this.#closed) throw this.#closed;
    const mine = new Set<string>();
    const deadline = performance.now() + timeoutMs;
    // Until a first marker came back, the kernel may not have added this subscriber yet: a marker
    // it publishes before then is not sent here, so send another after a short wait. Any marker of
    // this call coming back proves everything before the first one was published.
    while (true) {
      const id = `${MARKER_PREFIX}-${this.#session}-${++this.#count}`;
      mine.add(id);
      this.#awaited.add(id);
      broadcast(MARKER_TYPE, { data: {}, metadata: {}, transient: { display_id: id } });
      const patience = this.#subscribed
        ? deadline - performance.now()
        : FIRST_MARKER_MS[Math.min(mine.size, FIRST_MARKER_MS.length) - 1];
      const seen = await this.#seenOneOf(mine, patience);
      if (seen) this.#subscribed = true;
      if (seen || this.#closed || performance.now() >= deadline) {
        for (const done of mine) {
          this.#awaited.delete(done);
          this.#seen.delete(done);
        }
      }
      if (seen) return;
      if (this.#closed) throw this.#closed;
      if (performance.now() >= deadline) {
        const error = new Error(
          `no IOPub marker came back from the kernel within ${timeoutMs} ms`,
        );
        this.close(error);
        throw error;
      }
    }
  }

  /** Ends the subscription; the kernel drops the connection when its next send fails. */
  close(reason: Error = new Error("the IOPub barrier was closed")): void {
    if (this.#closed) return;
    this.#closed = reason;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const wake of this.#waiters) wake();
  }

  async #handshake(): Promise<void> {
    await this.#write(zmtpGreeting());
    const reader = new FrameReader();
    const greeting = await this.#readExactly(64);
    if (greeting[0] !== 0xff || greeting[9] !== 0x7f || greeting[10] < 3) {
      throw new Error("the kernel's IOPub port did not answer with a ZMTP 3 greeting");
    }
    await this.#write(zmtpReady("SUB"));
    while (reader.push(await this.#readSome()).length === 0) {
      // wait for the kernel's READY command
    }
    // ZMTP 3.0 subscription: a message whose first byte is 1, with an empty prefix (everything).
    await this.#write(encodeFrame(new Uint8Array([1])));
    this.#readForever(reader);
  }

  async #readForever(reader: FrameReader): Promise<void> {
    // Reads without pause: the kernel writes to every subscriber in turn, so one that stopped
    // reading would hold up every frontend once its socket's buffer is full.
    try {
      while (!this.#closed) {
        for (const message of reader.push(await this.#readSome())) {
          const id = message[0].command ? undefined : markerOf(message);
          if (id !== undefined && this.#awaited.has(id)) {
            this.#seen.add(id);
            for (const wake of this.#waiters) wake();
          }
        }
      }
    } catch (error) {
      this.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #seenOneOf(ids: Set<string>, ms: number): Promise<boolean> {
    const seen = () => [...ids].some((id) => this.#seen.has(id));
    return new Promise((resolve) => {
      if (seen()) return resolve(true);
      const wake = () => {
        if (seen()) finish(true);
        else if (this.#closed) finish(false);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      this.#waiters.add(wake);
    });
  }

  async #readSome(): Promise<Uint8Array> {
    const buffer = new Uint8Array(64 * 1024);
    const read = await this.#conn.read(buffer);
    if (read === null) throw new Error("the kernel closed its IOPub connection");
    return buffer.subarray(0, read);
  }

  async #readExactly(size: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size;) {
      const read = await this.#conn.read(bytes.subarray(at));
      if (read === null) throw new Error("the kernel closed its IOPub connection");
      at += read;
    }
    return bytes;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
  }
}
