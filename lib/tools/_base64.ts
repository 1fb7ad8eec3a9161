/**
 * Bytes as base64 text, for data embedded in the pages the tools write (the playground's model,
 * the lab's images).
 *
 * @module
 */

/**
 * Encodes bytes as base64.
 *
 * @param bytes What to encode.
 * @returns The base64 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(toBase64(new Uint8Array([0, 255, 7])), "AP8H");
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000; // String.fromCharCode takes a bounded number of arguments
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
