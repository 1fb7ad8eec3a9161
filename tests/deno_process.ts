/** Test helper for scripts run as their own Deno process, as `deno task train` would run them. */

/** The permissions `deno task train` runs with (no `--allow-all`: /proc is off limits). */
export const TASK_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
] as const;
