// Go time.Duration syntax: "300ms", "-1.5h", "2h45m", "0". Values are handled
// here in milliseconds (float), computed through integer nanoseconds like Go.

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n, // micro sign
  "\u03bcs": 1_000n, // greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;
const NS_PER_MS = 1_000_000;

function invalid(text: string, why = "invalid duration"): Error {
  return new Error(`time: ${why} ${JSON.stringify(text)}`);
}

/** Parses a Go duration string and returns milliseconds (may be fractional). */
export function parseDuration(text: string): number {
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid(text);

  let totalNs = 0n;
  let i = 0;
  while (i < s.length) {
    const intStart = i;
    while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
    const intDigits = s.slice(intStart, i);
    let fracDigits = "";
    if (s[i] === ".") {
      i++;
      const fracStart = i;
      while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
      fracDigits = s.slice(fracStart, i);
    }
    if (intDigits === "" && fracDigits === "") throw invalid(text);

    const unitStart = i;
    while (i < s.length && s[i] !== "." && !(s[i]! >= "0" && s[i]! <= "9")) i++;
    const unitText = s.slice(unitStart, i);
    if (unitText === "") throw invalid(text, "missing unit in duration");
    const unit = NS_PER_UNIT[unitText];
    if (unit === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(text)}`);
    }

    let ns = BigInt(intDigits === "" ? "0" : intDigits) * unit;
    if (fracDigits !== "") {
      // Truncates below one nanosecond, as Go does.
      ns += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    totalNs += ns;
    if (totalNs > MAX_NS) throw invalid(text);
  }
  const ms = Number(totalNs) / NS_PER_MS;
  return negative ? -ms : ms;
}

function withFraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(digits, "0").replace(/0+$/, "");
  return frac === "" ? whole.toString() : `${whole}.${frac}`;
}

/** Formats milliseconds like Go's Duration.String(): 60000 -> "1m0s", 250 -> "250ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format duration ${ms}`);
  let ns = BigInt(Math.round(ms * NS_PER_MS));
  if (ns === 0n) return "0s";
  const negative = ns < 0n;
  if (negative) ns = -ns;

  let out: string;
  if (ns < 1_000n) {
    out = `${ns}ns`;
  } else if (ns < 1_000_000n) {
    out = `${withFraction(ns, 3)}\u00b5s`;
  } else if (ns < 1_000_000_000n) {
    out = `${withFraction(ns, 6)}ms`;
  } else {
    const minuteNs = 60_000_000_000n;
    const seconds = `${withFraction(ns % minuteNs, 9)}s`;
    const minutes = ns / minuteNs;
    if (minutes === 0n) {
      out = seconds;
    } else {
      const hours = minutes / 60n;
      out = `${hours > 0n ? `${hours}h` : ""}${minutes % 60n}m${seconds}`;
    }
  }
  return negative ? `-${out}` : out;
}
