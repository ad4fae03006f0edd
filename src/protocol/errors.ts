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
