import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/options/duration.ts";

describe("parseDuration", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["+0", 0],
    ["-0", -0],
    ["0s", 0],
    ["60s", 60_000],
    ["250ms", 250],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    ["100us", 0.1],
    ["100\u00b5s", 0.1],
    ["100\u03bcs", 0.1],
    ["7ns", 0.000007],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["15m", 900_000],
    [".5s", 500],
    ["1.s", 1_000],
    ["0.7s", 700],
    ["2h45m0.5s", 9_900_500],
    ["1h1m1s1ms1us1ns", 3_661_001.001001],
    ["-1.5h", -5_400_000],
    ["+3s", 3_000],
    ["10m", 600_000],
    ["5s", 5_000],
    ["1.000000001s", 1_000.000001],
  ];
  for (const [text, ms] of cases) {
    test(`${JSON.stringify(text)} -> ${ms}ms`, () => {
      expect(parseDuration(text)).toBeCloseTo(ms, 9);
    });
  }

  test("truncates below one nanosecond like Go", () => {
    expect(parseDuration("1.9ns")).toBe(0.000001);
  });

  const bad: Array<[string, RegExp]> = [
    ["", /invalid duration ""/],
    ["60", /missing unit in duration "60"/],
    ["1.5", /missing unit/],
    ["1x", /unknown unit "x" in duration "1x"/],
    ["1S", /unknown unit "S"/],
    ["s", /invalid duration "s"/],
    [".s", /invalid duration/],
    [".", /invalid duration/],
    ["-", /invalid duration/],
    ["--1s", /invalid duration/],
    ["1s ", /unknown unit "s "/],
    [" 1s", /invalid duration/],
    ["1e3s", /unknown unit "e"/],
    ["9999999999h", /invalid duration/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseDuration(text)).toThrow(message);
    });
  }

  test("accepts values up to Go's int64 nanosecond limit", () => {
    expect(parseDuration("2562047h")).toBe(2_562_047 * 3_600_000);
    expect(() => parseDuration("2562048h")).toThrow(/invalid duration/);
  });
});

describe("formatDuration", () => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [0.000001, "1ns"],
    [0.000999, "999ns"],
    [0.001, "1\u00b5s"],
    [0.0015, "1.5\u00b5s"],
    [0.1, "100\u00b5s"],
    [1, "1ms"],
    [1.5, "1.5ms"],
    [25, "25ms"],
    [250, "250ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [2_000, "2s"],
    [30_000, "30s"],
    [60_000, "1m0s"],
    [61_500, "1m1.5s"],
    [90_000, "1m30s"],
    [600_000, "10m0s"],
    [900_000, "15m0s"],
    [3_600_000, "1h0m0s"],
    [5_400_000, "1h30m0s"],
    [9_900_500, "2h45m0.5s"],
    [100 * 3_600_000, "100h0m0s"],
    [-1_500, "-1.5s"],
    [-60_000, "-1m0s"],
  ];
  for (const [ms, text] of cases) {
    test(`${ms}ms -> ${text}`, () => {
      expect(formatDuration(ms)).toBe(text);
    });
  }

  test("round-trips through parseDuration", () => {
    for (const ms of [0, 0.001, 0.25, 25, 250, 1_000, 1_234.5, 60_000, 3_723_004, 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBeCloseTo(ms, 9);
    }
  });

  test("rejects non-finite values", () => {
    expect(() => formatDuration(Number.NaN)).toThrow();
    expect(() => formatDuration(Number.POSITIVE_INFINITY)).toThrow();
  });
});
