/** A problem with what the user gave us (config, data, arguments): exit code 2, message shown as is. */
export class UserError extends Error {
  override name = 'UserError';
}

/** Exit codes shared by the CLI and the tests. */
export const EXIT = { ok: 0, internal: 1, badInput: 2, interrupted: 130 } as const;
