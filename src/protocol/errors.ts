/**
 * The protocol layer's one error convention (tcp follows it too):
 * - A check that knows nsqd's answer (code and words) throws a ClientError; each
 *   entry point of a connection (a parsed line, body size or body, an AUTH
 *   continuation) catches it once and sends the error frame. HTTP maps it to its
 *   own status where the same check serves both doors (MPUB bodies).
 * - A parser of one value (a number, a message id, a name, a JSON body) returns
 *   an invalid marker (-1, false, null) instead: the command that called it words
 *   the error, and the hot path allocates nothing.
 */

/**
 * An error a client caused. `fatal` errors are sent and then the connection is
 * closed, exactly where nsqd uses a FatalClientErr; the others (E_FIN_FAILED,
 * E_REQ_FAILED, E_TOUCH_FAILED) leave the connection open.
 */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly fatal = true,
  ) {
    super(`${code} ${description}`);
  }

  /** The text carried in the error frame: "E_CODE description". */
  get frameText(): string {
    return this.message;
  }
}

export const fatal = (code: string, description: string): ClientError => new ClientError(code, description, true);
export const nonFatal = (code: string, description: string): ClientError => new ClientError(code, description, false);
