/**
 * bunsq's version, as the client reports it in IDENTIFY's user_agent. Kept here
 * rather than imported from src/core/nsqd.ts so the client does not pull the
 * server (and its Bun-only code) into its bundle; test/client/node-interop.test.ts
 * checks the two stay equal.
 */
export const CLIENT_VERSION = "1.3.0+bunsq";
