// Generic option machinery shared by the daemons: a daemon declares one table of
// OptionSpec entries, and the zod schema, the argv parser (Go flag semantics),
// the TOML config loader and the help text are all derived from it.

import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { z } from "zod";
import { formatDuration, parseDuration } from "./duration.ts";

export type OptionKind = "string" | "int" | "float" | "bool" | "duration" | "list" | "floatList";

/** Resolved value type of each kind; durations are milliseconds. */
export interface KindValues {
  string: string;
  int: number;
  float: number;
  bool: boolean;
  duration: number;
  list: string[];
  floatList: number[];
}

/** Returns an error message, or undefined when the value is fine. */
export type Validator = (value: never) => string | undefined;

/**
 * An old flag NSQ still accepts for an option, so existing command lines keep
 * working: giving it logs a warning in go-options' words (see ParsedArgs.warnings),
 * and the option's own flag wins when both are given.
 */
export interface DeprecatedFlag {
  readonly flag: string;
  readonly help: string;
  /** The replacement named in the warning: "... is deprecated (use --<instead>)". */
  readonly instead: string;
  /**
   * A boolean flag that stands for this value of the option (`--flag`, `--flag=true`);
   * `--flag=false` sets nothing. Without it the old flag takes a value like the option's own.
   */
  readonly sets?: string;
  /**
   * The old flag is a boolean in NSQ today but took the option's value once: bare `--flag`
   * or a true/false value is accepted and sets nothing, `--flag=value` sets the option, and
   * the next argument is never consumed.
   */
  readonly valueOptional?: boolean;
}

export interface OptionSpec {
  /** Property name in the resolved options object (camelCase). */
  readonly key: string;
  /** Flag name without dashes, e.g. "tcp-address"; also names the option in errors. */
  readonly flag: string;
  /** TOML key. Defaults to the flag name with "-" replaced by "_"; null: not read from config files. */
  readonly configKey?: string | null;
  /** false: settable only programmatically (not from argv or config) and left out of help. */
  readonly settable?: boolean;
  readonly kind: OptionKind;
  /** The default value, or a function computing it. */
  readonly default: unknown;
  readonly help: string;
  /** Allowed values of a string option (after normalize). */
  readonly choices?: readonly string[];
  /** Maps a raw string from argv or a config file to the stored string; throws on bad input. */
  readonly normalize?: (raw: string) => string;
  /** Like Go's IsBoolFlag: bare `--flag` means "true" and the next argument is never consumed. */
  readonly boolFlag?: boolean;
  /** Inclusive bounds for int/float/duration (ms); per element for floatList. Durations default to min 0. */
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  /** Extra check on the value (per element for list kinds). */
  readonly validate?: Validator;
  /** Word shown after the flag in help; defaults by kind like Go ("string", "int", "duration", "value"). */
  readonly valueName?: string;
  /** Old command-line names of this option (command line only, not config files). */
  readonly deprecatedFlags?: readonly DeprecatedFlag[];
}

export type OptionTable = readonly OptionSpec[];

type SpecValue<S> = S extends { readonly choices: readonly (infer C)[] }
  ? C
  : S extends { readonly kind: infer K extends OptionKind }
    ? KindValues[K]
    : never;

/** The resolved options object type described by a table declared `as const`. */
export type OptionsOf<T extends OptionTable> = { [S in T[number] as S["key"]]: SpecValue<S> };

export interface ParsedArgs {
  /** Typed values of the flags given on the command line, by option key. */
  values: Record<string, unknown>;
  config?: string;
  version: boolean;
  help: boolean;
  /** Deprecation warnings for old flags that were given, for the program to log once its logger exists. */
  warnings: string[];
}

/** A bad command-line flag or config-file entry. */
export class FlagError extends Error {
  constructor(
    message: string,
    readonly flag?: string,
    readonly value?: string,
  ) {
    super(message);
    this.name = "FlagError";
  }
}

/** Failed validation of a resolved options object; `problems` has one line per invalid field. */
export class OptionsError extends Error {
  constructor(
    readonly problems: string[],
    what = "options",
  ) {
    super(`invalid ${what}:\n  ${problems.join("\n  ")}`);
    this.name = "OptionsError";
  }
}

// Program flags every daemon accepts; a table must not reuse these names.
const RESERVED_FLAGS = new Set(["config", "version", "help", "h"]);

// ---- table helpers ----

interface TableIndex {
  byFlag: Map<string, OptionSpec>;
  byDeprecatedFlag: Map<string, { spec: OptionSpec; old: DeprecatedFlag }>;
  byConfigKey: Map<string, OptionSpec>;
  byKey: Map<string, OptionSpec>;
}

const indexCache = new WeakMap<OptionTable, TableIndex>();

function indexOf(table: OptionTable): TableIndex {
  const cached = indexCache.get(table);
  if (cached) return cached;
  const index: TableIndex = { byFlag: new Map(), byDeprecatedFlag: new Map(), byConfigKey: new Map(), byKey: new Map() };
  const flagTaken = (flag: string) => index.byFlag.has(flag) || index.byDeprecatedFlag.has(flag);
  for (const spec of table) {
    if (RESERVED_FLAGS.has(spec.flag)) throw new Error(`option table: flag name "${spec.flag}" is reserved`);
    if (index.byKey.has(spec.key) || flagTaken(spec.flag)) {
      throw new Error(`option table: duplicate option "${spec.key}" / "${spec.flag}"`);
    }
    index.byKey.set(spec.key, spec);
    index.byFlag.set(spec.flag, spec);
    for (const old of spec.deprecatedFlags ?? []) {
      if (RESERVED_FLAGS.has(old.flag) || flagTaken(old.flag)) {
        throw new Error(`option table: deprecated flag "${old.flag}" is already taken`);
      }
      index.byDeprecatedFlag.set(old.flag, { spec, old });
    }
    const configKey = configKeyOf(spec);
    if (configKey !== null) index.byConfigKey.set(configKey, spec);
  }
  indexCache.set(table, index);
  return index;
}

function isSettable(spec: OptionSpec): boolean {
  return spec.settable !== false;
}

/** The TOML key of an option, or null when config files cannot set it. */
export function configKeyOf(spec: OptionSpec): string | null {
  if (!isSettable(spec)) return null;
  if (spec.configKey !== undefined) return spec.configKey;
  return spec.flag.replaceAll("-", "_");
}

/** How an option is named in messages: "--flag", or the key for programmatic-only options. */
export function optionLabel(spec: OptionSpec): string {
  return isSettable(spec) ? `--${spec.flag}` : spec.key;
}

export function defaultOf(spec: OptionSpec): unknown {
  const value = typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
  return Array.isArray(value) ? [...value] : value;
}

/** Every option's default, by key. */
export function defaultValues(table: OptionTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of table) out[spec.key] = defaultOf(spec);
  return out;
}

// ---- Go-style scalar parsing ----

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

function isGoBool(text: string): boolean {
  return GO_TRUE.has(text) || GO_FALSE.has(text);
}

/** strconv.ParseBool. */
export function parseGoBool(text: string): boolean {
  if (GO_TRUE.has(text)) return true;
  if (GO_FALSE.has(text)) return false;
  throw new Error("expected a boolean (true or false)");
}

const INT_FORMS = [
  /^0[xX](_?[0-9a-fA-F])+$/,
  /^0[bB](_?[01])+$/,
  /^0[oO](_?[0-7])+$/,
  /^0(_?[0-7])+$/, // legacy octal, as strconv.ParseInt(s, 0, 64) reads "010"
  /^(0|[1-9](_?[0-9])*)$/,
];

/** strconv.ParseInt(text, 0, 64), limited to safe JS integers. */
export function parseGoInt(text: string): number {
  let body = text;
  let sign = 1n;
  if (body.startsWith("-") || body.startsWith("+")) {
    if (body[0] === "-") sign = -1n;
    body = body.slice(1);
  }
  if (!INT_FORMS.some((re) => re.test(body))) throw new Error("expected an integer");
  body = body.replaceAll("_", "");
  if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
  const value = Number(sign * BigInt(body));
  if (!Number.isSafeInteger(value)) throw new Error("integer out of range");
  return value;
}

/** strconv.ParseFloat for decimal forms; rejects inf/nan. */
export function parseGoFloat(text: string): number {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error("expected a number");
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error("number out of range");
  return value;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkChoices(spec: OptionSpec, value: string): string {
  if (spec.choices && !spec.choices.includes(value)) throw new Error(`must be one of ${choiceList(spec.choices)}`);
  return value;
}

function choiceList(choices: readonly string[]): string {
  return choices.map((c) => JSON.stringify(c)).join(", ");
}

function parseStringValue(spec: OptionSpec, raw: string): string {
  return checkChoices(spec, spec.normalize ? spec.normalize(raw) : raw);
}

function parseFloatList(raw: string): number[] {
  return raw.split(",").map((part) => parseGoFloat(part.trim()));
}

/** Converts one command-line value; list kinds return the element(s) to append. */
function parseFlagValue(spec: OptionSpec, raw: string): unknown {
  switch (spec.kind) {
    case "string":
      return parseStringValue(spec, raw);
    case "int":
      return parseGoInt(raw);
    case "float":
      return parseGoFloat(raw);
    case "bool":
      return parseGoBool(raw);
    case "duration":
      return parseDuration(raw);
    case "list":
      return [raw];
    case "floatList":
      return parseFloatList(raw);
  }
}

function describeValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint" || value === undefined) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Converts a value read from a TOML file, leniently like nsqd's config coercion. */
function coerceConfigValue(spec: OptionSpec, raw: unknown): unknown {
  switch (spec.kind) {
    case "string":
      if (typeof raw === "string") return parseStringValue(spec, raw);
      if (typeof raw === "number" || typeof raw === "boolean") return parseStringValue(spec, String(raw));
      throw new Error("expected a string");
    case "int":
      if (typeof raw === "number") {
        if (!Number.isSafeInteger(raw)) throw new Error("expected an integer");
        return raw;
      }
      if (typeof raw === "string") return parseGoInt(raw.trim());
      throw new Error("expected an integer");
    case "float":
      if (typeof raw === "number") return raw;
      if (typeof raw === "string") return parseGoFloat(raw.trim());
      throw new Error("expected a number");
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string") return parseGoBool(raw.trim());
      if (typeof raw === "number") return raw !== 0;
      throw new Error("expected a boolean");
    case "duration":
      // A bare number in a config file means milliseconds.
      if (typeof raw === "number") return raw;
      if (typeof raw === "string") return parseDuration(raw.trim());
      throw new Error('expected a duration string like "60s" or a number of milliseconds');
    case "list":
      if (typeof raw === "string") return splitList(raw);
      if (Array.isArray(raw)) {
        return raw.map((item) => {
          if (typeof item === "string") return item;
          if (typeof item === "number") return String(item);
          throw new Error("expected an array of strings");
        });
      }
      throw new Error("expected an array of strings");
    case "floatList":
      if (typeof raw === "number") return [raw];
      if (typeof raw === "string") return parseFloatList(raw);
      if (Array.isArray(raw)) {
        return raw.map((item) => {
          if (typeof item === "number") return item;
          if (typeof item === "string") return parseGoFloat(item.trim());
          throw new Error("expected an array of numbers");
        });
      }
      throw new Error("expected an array of numbers");
  }
}

function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

// ---- argv ----

/**
 * Parses argv (without the program name) with Go flag semantics: `-name` or `--name`,
 * `--name=value` or `--name value`, booleans never consume the next argument,
 * list options accumulate. Throws FlagError on unknown flags, bad values and positionals.
 */
export function parseArgs(table: OptionTable, argv: readonly string[]): ParsedArgs {
  const { byFlag, byDeprecatedFlag } = indexOf(table);
  const result: ParsedArgs = { values: {}, version: false, help: false, warnings: [] };
  const fromOldFlags: Record<string, unknown> = {};

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== "-") {
      throw new FlagError(`unexpected argument ${JSON.stringify(arg)}: only flags are accepted`, undefined, arg);
    }
    if (arg === "--") {
      const rest = argv[i + 1];
      if (rest !== undefined) {
        throw new FlagError(`unexpected argument ${JSON.stringify(rest)}: only flags are accepted`, undefined, rest);
      }
      break;
    }
    const body = arg.slice(arg[1] === "-" ? 2 : 1);
    if (body === "" || body[0] === "-" || body[0] === "=") throw new FlagError(`bad flag syntax: ${arg}`, undefined, arg);

    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);

    if (name === "help" || name === "h") {
      result.help = true;
      return result;
    }
    if (name === "version") {
      result.version = parseBuiltinBool(name, value);
      continue;
    }
    if (name === "config") {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`, name);
        value = argv[++i]!;
      }
      result.config = value;
      continue;
    }

    const deprecated = byDeprecatedFlag.get(name);
    const spec = deprecated?.spec ?? byFlag.get(name);
    if (spec === undefined || !isSettable(spec)) {
      throw new FlagError(`flag provided but not defined: -${name}`, name, value);
    }
    const old = deprecated?.old;
    const isBoolean = old?.sets !== undefined || old?.valueOptional === true || spec.kind === "bool" || spec.boolFlag;
    if (value === undefined) {
      if (isBoolean) {
        value = "true";
      } else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`, name);
        value = argv[++i]!;
      }
    }
    if (old !== undefined) {
      const warning = `use of the --${name} command line flag is deprecated (use --${old.instead})`;
      if (!result.warnings.includes(warning)) result.warnings.push(warning);
    }

    let parsed: unknown;
    try {
      if (old?.sets !== undefined) {
        if (!parseGoBool(value)) continue;
        parsed = parseFlagValue(spec, old.sets);
      } else if (old?.valueOptional && isGoBool(value)) {
        // a value of the option's kind first: "--worker-id=1" is node id 1
        try {
          parsed = parseFlagValue(spec, value);
        } catch {
          continue;
        }
      } else {
        parsed = parseFlagValue(spec, value);
      }
    } catch (err) {
      throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: ${errorText(err)}`, name, value);
    }
    // an option's own flag wins over its old names, whatever their order
    const target = deprecated === undefined ? result.values : fromOldFlags;
    if (spec.kind === "list" || spec.kind === "floatList") {
      const previous = (target[spec.key] as unknown[] | undefined) ?? [];
      target[spec.key] = [...previous, ...(parsed as unknown[])];
    } else {
      target[spec.key] = parsed;
    }
  }
  for (const [key, value] of Object.entries(fromOldFlags)) {
    if (!(key in result.values)) result.values[key] = value;
  }
  return result;
}

function parseBuiltinBool(name: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  try {
    return parseGoBool(value);
  } catch (err) {
    throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: ${errorText(err)}`, name, value);
  }
}

// ---- config file ----

export interface ConfigLoadOptions {
  /** Receives warnings such as unknown keys; defaults to console.warn. */
  warn?: (message: string) => void;
}

/**
 * Reads a TOML config file and returns typed values by option key. Unknown keys are
 * reported through `warn` and ignored; bad values throw a FlagError naming the key.
 */
export function loadConfigFile(
  table: OptionTable,
  path: string,
  opts: ConfigLoadOptions = {},
): Record<string, unknown> {
  const warn = opts.warn ?? ((message: string) => console.warn(message));
  let parsed: unknown;
  try {
    parsed = Bun.TOML.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new FlagError(`failed to load config file ${path}: ${errorText(err)}`);
  }
  const { byConfigKey } = indexOf(table);
  const values: Record<string, unknown> = {};
  for (const [configKey, raw] of Object.entries(parsed as Record<string, unknown>)) {
    const spec = byConfigKey.get(configKey);
    if (spec === undefined) {
      warn(`WARNING: unknown config key "${configKey}" in ${path} (ignored)`);
      continue;
    }
    try {
      values[spec.key] = coerceConfigValue(spec, raw);
    } catch (err) {
      throw new FlagError(
        `invalid value ${describeValue(raw)} for config key "${configKey}" in ${path}: ${errorText(err)}`,
        spec.flag,
        String(raw),
      );
    }
  }
  return values;
}

/**
 * Defaults < config file (`--config`) < command-line flags. The config file is not read
 * when --help or --version is given. The merged values are not validated here.
 */
export function resolveOptions(
  table: OptionTable,
  argv: readonly string[],
  opts: ConfigLoadOptions = {},
): ParsedArgs {
  const parsed = parseArgs(table, argv);
  const values = defaultValues(table);
  if (!parsed.help && !parsed.version && parsed.config) {
    Object.assign(values, loadConfigFile(table, parsed.config, opts));
  }
  Object.assign(values, parsed.values);
  return { ...parsed, values };
}

/** A program's command line resolved to its validated options. */
export interface ResolvedArgs<T> {
  options: T;
  config?: string;
  version: boolean;
  help: boolean;
  /** See ParsedArgs.warnings. */
  warnings: string[];
}

/**
 * Command line and --config file to validated options (defaults < config < flags),
 * with `parse` validating them. Throws FlagError for bad flags/config entries and
 * OptionsError for invalid values; --help and --version exit before options are
 * used, so range errors in what was given must not block them.
 */
export function resolveProgramOptions<T>(
  table: OptionTable,
  argv: readonly string[],
  parse: (values: Record<string, unknown>) => T,
  opts: ConfigLoadOptions = {},
): ResolvedArgs<T> {
  const { values, ...rest } = resolveOptions(table, argv, opts);
  return { ...rest, options: parse(rest.help || rest.version ? {} : values) };
}

// ---- validators ----

const HOSTNAME_RE = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

/** "host:port" where host may be empty, an IPv4 address, a bracketed IPv6 address or a name. */
export function checkHostPort(addr: string): string | undefined {
  const colon = addr.lastIndexOf(":");
  if (colon < 0) return "missing port, expected host:port";
  const host = addr.slice(0, colon);
  const port = addr.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return `invalid port ${JSON.stringify(port)}, expected host:port`;
  if (host.startsWith("[")) {
    if (!host.endsWith("]") || !isIPv6(host.slice(1, -1).replace(/%[^%\]]+$/, ""))) {
      return `invalid IPv6 host ${JSON.stringify(host)}`;
    }
  } else if (host.includes(":")) {
    return "too many colons, put IPv6 hosts in brackets like [::1]:4150";
  } else if (host !== "" && !HOSTNAME_RE.test(host)) {
    return `invalid host ${JSON.stringify(host)}`;
  }
  return undefined;
}

/** host:port, or an http:// or https:// URL. */
export function checkHostPortOrUrl(addr: string): string | undefined {
  if (/^https?:\/\//i.test(addr)) {
    return URL.canParse(addr) ? undefined : `invalid URL ${JSON.stringify(addr)}`;
  }
  return checkHostPort(addr);
}

/** Empty, or host:port. */
export function checkOptionalHostPort(addr: string): string | undefined {
  return addr === "" ? undefined : checkHostPort(addr);
}

export function checkNonEmpty(value: string): string | undefined {
  return value === "" ? "must not be empty" : undefined;
}

// ---- zod schema ----

function formatNumber(spec: OptionSpec, n: number): string {
  return spec.kind === "duration" ? formatDuration(n) : String(n);
}

function boundsProblem(spec: OptionSpec, n: number): string | undefined {
  const min = spec.min ?? (spec.kind === "duration" ? 0 : undefined);
  if (spec.above !== undefined && !(n > spec.above)) {
    return `must be > ${formatNumber(spec, spec.above)} (got ${formatNumber(spec, n)})`;
  }
  if (min !== undefined && n < min) return `must be >= ${formatNumber(spec, min)} (got ${formatNumber(spec, n)})`;
  if (spec.max !== undefined && n > spec.max) {
    return `must be <= ${formatNumber(spec, spec.max)} (got ${formatNumber(spec, n)})`;
  }
  return undefined;
}

function runValidator(spec: OptionSpec, value: unknown): string | undefined {
  if (!spec.validate) return undefined;
  const problem = (spec.validate as (v: unknown) => string | undefined)(value);
  return problem === undefined ? undefined : `${problem} (got ${describeValue(value)})`;
}

function checked<T extends z.ZodType>(schema: T, check: (value: z.output<T>) => string | undefined): T {
  return schema.superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  }) as T;
}

function typeError(expected: string) {
  return {
    abort: true,
    error: (issue: { input?: unknown }) => `expected ${expected} (got ${describeValue(issue.input)})`,
  };
}

function baseSchema(spec: OptionSpec): z.ZodType {
  const scalarCheck = (value: unknown): string | undefined =>
    (typeof value === "number" ? boundsProblem(spec, value) : undefined) ?? runValidator(spec, value);
  switch (spec.kind) {
    case "string":
      return checked(z.string(typeError("a string")), (v) => {
        if (spec.choices && !spec.choices.includes(v)) return `must be one of ${choiceList(spec.choices)} (got ${JSON.stringify(v)})`;
        return runValidator(spec, v);
      });
    case "int":
      return checked(z.int(typeError("an integer")), scalarCheck);
    case "float":
      return checked(z.number(typeError("a finite number")), scalarCheck);
    case "duration":
      return checked(z.number(typeError("a duration in milliseconds or a Go duration string")), scalarCheck);
    case "bool":
      return z.boolean(typeError("a boolean"));
    case "list":
      return z.array(checked(z.string(typeError("a string")), (v) => runValidator(spec, v)), typeError("an array of strings"));
    case "floatList":
      return z.array(checked(z.number(typeError("a finite number")), scalarCheck), typeError("an array of numbers"));
  }
}

function fieldSchema(spec: OptionSpec): z.ZodType {
  return z.preprocess((value, ctx) => {
    if (value === undefined) return defaultOf(spec);
    if (typeof value !== "string") return value;
    // Programmatic callers may pass durations as Go strings and enum strings unnormalized.
    if (spec.kind === "duration") {
      try {
        return parseDuration(value);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: errorText(err) });
        return z.NEVER;
      }
    }
    if (spec.kind === "string" && spec.normalize) {
      try {
        return spec.normalize(value);
      } catch {
        return value;
      }
    }
    return value;
  }, baseSchema(spec));
}

/**
 * A strict zod object schema for a table: missing keys take their defaults, durations
 * may be given as numbers (ms) or Go duration strings, unknown keys are rejected.
 */
export function buildOptionsSchema<const T extends OptionTable>(table: T): z.ZodType<OptionsOf<T>> {
  indexOf(table);
  const shape: Record<string, z.ZodType> = {};
  for (const spec of table) shape[spec.key] = fieldSchema(spec);
  return z.strictObject(shape) as unknown as z.ZodType<OptionsOf<T>>;
}

/** One line per zod issue, naming the option by its flag. */
export function describeIssues(table: OptionTable, issues: readonly z.core.$ZodIssue[]): string[] {
  const { byKey } = indexOf(table);
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
      lines.push(`unknown option(s): ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`);
      continue;
    }
    const [key, ...rest] = issue.path;
    const spec = typeof key === "string" ? byKey.get(key) : undefined;
    let label = spec ? optionLabel(spec) : issue.path.map(String).join(".") || "options";
    if (spec && rest.length > 0) label += rest.map((p) => `[${String(p)}]`).join("");
    lines.push(`${label}: ${issue.message}`);
  }
  return lines;
}

/** Parses with `schema`; on failure throws an OptionsError listing every invalid field by flag name. */
export function validateOptions<T>(
  table: OptionTable,
  schema: z.ZodType<T>,
  input: Record<string, unknown>,
  what = "options",
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new OptionsError(describeIssues(table, result.error.issues), what);
}

// ---- help ----

function typeWord(spec: OptionSpec): string {
  if (spec.valueName !== undefined) return spec.valueName;
  if (spec.kind === "bool" || spec.boolFlag) return "";
  switch (spec.kind) {
    case "string":
      return "string";
    case "int":
      return "int";
    case "float":
      return "float";
    case "duration":
      return "duration";
    default:
      return "value";
  }
}

/** The "(default ...)" text, or undefined for zero values (Go omits those). */
function defaultText(spec: OptionSpec): string | undefined {
  const value = defaultOf(spec);
  switch (spec.kind) {
    case "bool":
      return value === true ? "true" : undefined;
    case "int":
    case "float":
      return value === 0 ? undefined : String(value);
    case "duration":
      return value === 0 ? undefined : formatDuration(value as number);
    case "list":
    case "floatList":
      return (value as unknown[]).length === 0 ? undefined : (value as unknown[]).join(",");
    case "string": {
      const s = value as string;
      if (s === "" || (spec.boolFlag && s === "false")) return undefined;
      // Go quotes defaults of plain string flags only.
      return spec.valueName === undefined && !spec.boolFlag ? JSON.stringify(s) : s;
    }
  }
}

interface HelpEntry {
  name: string;
  type: string;
  help: string;
  def?: string;
}

/** Usage text in the style of Go's flag.PrintDefaults, flags sorted by name. */
export function formatHelp(programName: string, table: OptionTable): string {
  indexOf(table);
  const entries: HelpEntry[] = [
    { name: "config", type: "string", help: "path to config file" },
    { name: "version", type: "", help: "print version string" },
  ];
  for (const spec of table) {
    if (!isSettable(spec)) continue;
    entries.push({ name: spec.flag, type: typeWord(spec), help: spec.help, def: defaultText(spec) });
    for (const old of spec.deprecatedFlags ?? []) {
      const takesValue = old.sets === undefined && !old.valueOptional;
      entries.push({ name: old.flag, type: takesValue ? typeWord(spec) : "", help: old.help });
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let out = `Usage of ${programName}:\n`;
  for (const e of entries) {
    out += `  -${e.name}${e.type ? ` ${e.type}` : ""}\n    \t${e.help.replaceAll("\n", "\n    \t")}`;
    if (e.def !== undefined) out += ` (default ${e.def})`;
    out += "\n";
  }
  return out;
}
