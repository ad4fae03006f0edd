/**
 * The parts of nsqjs 0.13 (an untyped CommonJS package) that the interop tests use.
 * Durations follow nsqjs: heartbeatInterval and maxBackoffDuration in seconds,
 * messageTimeout, requeueDelay and delays in milliseconds.
 */
declare module "nsqjs" {
  /** A string and a Buffer go out as they are; anything else is sent as JSON. */
  export type Body = string | Buffer | Record<string, unknown> | unknown[];

  export type PublishCallback = (err?: Error | null) => void;

  export interface ConnectionOptions {
    clientId?: string;
    heartbeatInterval?: number;
    messageTimeout?: number;
    maxInFlight?: number;
    requeueDelay?: number;
    snappy?: false;
    deflate?: false;
  }

  export interface ReaderOptions extends ConnectionOptions {
    nsqdTCPAddresses: string[];
    maxAttempts?: number;
    maxBackoffDuration?: number;
  }

  export class Message {
    readonly id: string;
    /** Nanoseconds since the epoch, as nsqd wrote it. */
    readonly timestamp: bigint;
    readonly attempts: number;
    readonly body: Buffer;
    /** From the IDENTIFY response. */
    readonly msgTimeout: number;
    readonly maxMsgTimeout: number;
    json(): unknown;
    finish(): void;
    requeue(delayMs?: number, backoff?: boolean): void;
    touch(): void;
  }

  export class Reader {
    constructor(topic: string, channel: string, options: ReaderOptions);
    connect(): void;
    close(): void;
    on(event: "message" | "discard", listener: (msg: Message) => void): this;
    on(event: "error", listener: (err: Error) => void): this;
    on(event: "nsqd_connected" | "nsqd_closed", listener: (host: string, port: number) => void): this;
  }

  export class Writer {
    constructor(host: string, port: number, options?: ConnectionOptions);
    connect(): void;
    close(): void;
    publish(topic: string, msgs: Body | Body[], callback?: PublishCallback): void;
    /** nsqjs 0.13 throws unless the message is wrapped in a one-element array. */
    deferPublish(topic: string, msgs: [Body], timeMs: number, callback?: PublishCallback): void;
    on(event: "ready" | "closed", listener: () => void): this;
    on(event: "error", listener: (err: Error) => void): this;
  }
}
