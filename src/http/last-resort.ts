import type { Logger } from "../common/logger.ts";
import { errorResponse } from "./errors.ts";

/**
 * Bun.serve's `error` option for every daemon: an exception that escaped the
 * app's own error handling is logged and answered 500, and the daemon goes on.
 */
export function lastResortErrorHandler(logger: Logger): (error: Error) => Response {
  return (error) => {
    logger.error(`HTTP: unhandled error - ${error?.stack ?? error}`);
    return errorResponse(500, "INTERNAL_ERROR");
  };
}
