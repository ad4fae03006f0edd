// Line format of Go's log package with Ldate|Ltime|Lmicroseconds, plus the
// level words of nsq's internal/lg: "[nsqd] 2026/11/22 13:58:01.123456 INFO: msg".

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "fatal"];

const RANK: Readonly<Record<LogLevel, number>> = { debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

// nsq prints "WARNING" for the warn level.
const WORD: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "FATAL",
};

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && Object.hasOwn(RANK, value);
}

/** Case-insensitive, like nsq's lg.ParseLogLevel. */
export function parseLogLevel(text: string): LogLevel {
  const level = text.toLowerCase();
  if (!isLogLevel(level)) throw new Error(`invalid log-level '${text}'`);
  return level;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** "2026/11/22 13:58:01" in local time, for an epoch second. */
function formatSecond(epochSecond: number): string {
  const d = new Date(epochSecond * 1000);
  return (
    `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

let cachedSecond = Number.NaN;
let cachedSecondText = "";

/** Go log timestamp with microseconds, local time: "2026/11/22 13:58:01.123456". */
export function formatLogTime(epochMs: number): string {
  const totalMicros = Math.round(epochMs * 1000);
  const second = Math.floor(totalMicros / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = formatSecond(second);
  }
  const micros = totalMicros - second * 1_000_000;
  return `${cachedSecondText}.${micros.toString().padStart(6, "0")}`;
}

/** Wall-clock milliseconds with a sub-millisecond part taken from the high-resolution clock. */
function defaultNow(): number {
  const subMs = (performance.timeOrigin + performance.now()) % 1;
  return Date.now() + subMs;
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

export interface LoggerOptions {
  level: LogLevel;
  prefix: string;
  /** Receives each line without its trailing newline. Defaults to stderr. */
  write?: (line: string) => void;
  /** Epoch milliseconds (fractional part = sub-millisecond); for tests. */
  now?: () => number;
}

export class Logger {
  #level: LogLevel;
  #rank: number;
  #prefix: string;
  readonly #write: (line: string) => void;
  readonly #now: () => number;

  constructor(opts: LoggerOptions) {
    if (!isLogLevel(opts.level)) throw new Error(`invalid log-level '${String(opts.level)}'`);
    this.#level = opts.level;
    this.#rank = RANK[opts.level];
    this.#prefix = opts.prefix;
    this.#write = opts.write ?? writeStderr;
    this.#now = opts.now ?? defaultNow;
  }

  get level(): LogLevel {
    return this.#level;
  }

  get prefix(): string {
    return this.#prefix;
  }

  setLevel(level: LogLevel): void {
    if (!isLogLevel(level)) throw new Error(`invalid log-level '${String(level)}'`);
    this.#level = level;
    this.#rank = RANK[level];
  }

  /** Whether a message at `level` would be written. Cheap: guard hot-path debug logging with it. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  debug(msg: string): void {
    if (this.#rank <= 1) this.#emit("debug", msg);
  }

  info(msg: string): void {
    if (this.#rank <= 2) this.#emit("info", msg);
  }

  warn(msg: string): void {
    if (this.#rank <= 3) this.#emit("warn", msg);
  }

  error(msg: string): void {
    if (this.#rank <= 4) this.#emit("error", msg);
  }

  /** Logs at FATAL level only; exiting is left to the caller. */
  fatal(msg: string): void {
    this.#emit("fatal", msg);
  }

  /** Logs at an arbitrary level, subject to filtering. */
  log(level: LogLevel, msg: string): void {
    if (RANK[level] >= this.#rank) this.#emit(level, msg);
  }

  #emit(level: LogLevel, msg: string): void {
    this.#write(`${this.#prefix}${formatLogTime(this.#now())} ${WORD[level]}: ${msg}`);
  }
}
