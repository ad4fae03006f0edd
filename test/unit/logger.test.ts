import { describe, expect, test } from "bun:test";
import { formatLogTime, Logger, LOG_LEVELS, parseLogLevel, type LogLevel } from "../../src/common/logger.ts";

// 2026-11-22 13:58:01.123456 local time
const FIXED = new Date(2026, 10, 22, 13, 58, 1, 123).getTime() + 0.456;

function capture(level: LogLevel, prefix = "[nsqd] ") {
  const lines: string[] = [];
  const logger = new Logger({ level, prefix, write: (line) => lines.push(line), now: () => FIXED });
  return { logger, lines };
}

describe("Logger line format", () => {
  test("prefix, date, time with microseconds, LEVEL: message", () => {
    const { logger, lines } = capture("info");
    logger.info("TCP: listening on [::]:4150");
    expect(lines).toEqual(["[nsqd] 2026/11/22 13:58:01.123456 INFO: TCP: listening on [::]:4150"]);
  });

  test("uses nsq's level words", () => {
    const { logger, lines } = capture("debug");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.fatal("f");
    expect(lines.map((l) => l.slice("[nsqd] 2026/11/22 13:58:01.123456 ".length))).toEqual([
      "DEBUG: d",
      "INFO: i",
      "WARNING: w",
      "ERROR: e",
      "FATAL: f",
    ]);
  });

  test("custom and empty prefixes", () => {
    const a = capture("info", "[nsqlookupd] ");
    a.logger.info("x");
    expect(a.lines[0]).toBe("[nsqlookupd] 2026/11/22 13:58:01.123456 INFO: x");
    const b = capture("info", "");
    b.logger.info("x");
    expect(b.lines[0]).toBe("2026/11/22 13:58:01.123456 INFO: x");
  });

  test("one write per event, without trailing newline", () => {
    const { logger, lines } = capture("info");
    logger.info("a");
    logger.error("b");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.endsWith("\n")).toBe(false);
  });

  test("line shape matches Go's log format", () => {
    const lines: string[] = [];
    const logger = new Logger({ level: "info", prefix: "[nsqd] ", write: (l) => lines.push(l) });
    logger.info("now");
    expect(lines[0]).toMatch(/^\[nsqd\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} INFO: now$/);
  });
});

describe("formatLogTime", () => {
  test("pads every field", () => {
    const t = new Date(2027, 0, 2, 3, 4, 5, 6).getTime();
    expect(formatLogTime(t)).toBe("2027/01/02 03:04:05.006000");
    expect(formatLogTime(t + 0.007)).toBe("2027/01/02 03:04:05.006007");
  });

  test("crosses second boundaries correctly", () => {
    const t = new Date(2026, 10, 22, 13, 58, 1, 999).getTime();
    expect(formatLogTime(t + 0.999)).toBe("2026/11/22 13:58:01.999999");
    expect(formatLogTime(t + 1)).toBe("2026/11/22 13:58:02.000000");
  });
});

describe("Logger level filtering", () => {
  const emitAll = (logger: Logger) => {
    logger.debug("debug");
    logger.info("info");
    logger.warn("warn");
    logger.error("error");
    logger.fatal("fatal");
  };

  const expected: Record<LogLevel, string[]> = {
    debug: ["DEBUG", "INFO", "WARNING", "ERROR", "FATAL"],
    info: ["INFO", "WARNING", "ERROR", "FATAL"],
    warn: ["WARNING", "ERROR", "FATAL"],
    error: ["ERROR", "FATAL"],
    fatal: ["FATAL"],
  };

  for (const level of LOG_LEVELS) {
    test(`level ${level}`, () => {
      const { logger, lines } = capture(level);
      emitAll(logger);
      expect(lines.map((l) => l.split(" ")[3]!.replace(":", ""))).toEqual(expected[level]);
    });
  }

  test("enabled() follows the level", () => {
    const { logger } = capture("warn");
    expect(logger.enabled("debug")).toBe(false);
    expect(logger.enabled("info")).toBe(false);
    expect(logger.enabled("warn")).toBe(true);
    expect(logger.enabled("error")).toBe(true);
    expect(logger.enabled("fatal")).toBe(true);
  });

  test("setLevel changes filtering and the level getter", () => {
    const { logger, lines } = capture("info");
    expect(logger.level).toBe("info");
    logger.debug("hidden");
    logger.setLevel("debug");
    expect(logger.level).toBe("debug");
    expect(logger.enabled("debug")).toBe(true);
    logger.debug("shown");
    logger.setLevel("error");
    logger.warn("hidden");
    logger.error("shown too");
    expect(lines.map((l) => l.slice(l.indexOf(": ") + 2))).toEqual(["shown", "shown too"]);
  });

  test("log() with an explicit level", () => {
    const { logger, lines } = capture("info");
    logger.log("debug", "no");
    logger.log("warn", "yes");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("WARNING: yes");
  });

  test("rejects an unknown level", () => {
    expect(() => new Logger({ level: "verbose" as LogLevel, prefix: "" })).toThrow(/invalid log-level/);
    const { logger } = capture("info");
    expect(() => logger.setLevel("trace" as LogLevel)).toThrow(/invalid log-level/);
  });
});

describe("parseLogLevel", () => {
  test("is case-insensitive", () => {
    expect(parseLogLevel("DEBUG")).toBe("debug");
    expect(parseLogLevel("Warn")).toBe("warn");
    expect(parseLogLevel("fatal")).toBe("fatal");
  });

  test("rejects unknown words", () => {
    expect(() => parseLogLevel("warning")).toThrow("invalid log-level 'warning'");
    expect(() => parseLogLevel("")).toThrow();
  });
});

describe("default writer", () => {
  test("writes the line plus newline to stderr", () => {
    const original = process.stderr.write;
    const written: string[] = [];
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      new Logger({ level: "info", prefix: "[nsqd] ", now: () => FIXED }).info("to stderr");
    } finally {
      process.stderr.write = original;
    }
    expect(written).toEqual(["[nsqd] 2026/11/22 13:58:01.123456 INFO: to stderr\n"]);
  });
});
