import type { Logger } from "../common/logger.ts";

/**
 * The last net of a long-running program: an exception nobody caught, or a
 * promise rejection nobody handled, is logged and the program goes on. Every
 * request and connection has its own error handling; this is for the bug that
 * slips past it (in a timer, a callback, a hook that runs after the answer).
 */
export function logUncaught(logger: Logger): void {
  process.on("uncaughtException", (err) => logger.error(`uncaught exception - ${err?.stack ?? err}`));
  process.on("unhandledRejection", (reason) => {
    logger.error(`unhandled promise rejection - ${(reason as Error)?.stack ?? reason}`);
  });
}
