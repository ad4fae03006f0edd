import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildOptionsSchema,
  checkHostPort,
  checkHostPortOrUrl,
  defaultValues,
  FlagError,
  formatHelp,
  loadConfigFile,
  OptionsError,
  parseArgs,
  parseGoBool,
  parseGoFloat,
  parseGoInt,
  resolveOptions,
  validateOptions,
  type OptionSpec,
  type OptionsOf,
} from "../../src/options/flags.ts";

// A small table in the shape a future daemon (e.g. nsqlookupd) would declare.
const table = [
  { key: "name", flag: "name", kind: "string", default: "demo", help: "a name" },
  { key: "listen", flag: "listen-address", kind: "string", default: "0.0.0.0:4160", validate: checkHostPort, help: "<addr>:<port> to listen on" },
  { key: "count", flag: "count", kind: "int", default: 3, min: 0, max: 10, help: "a count" },
  { key: "ratio", flag: "ratio", kind: "float", default: 0.5, above: 0, max: 1, help: "a ratio" },
  { key: "enabled", flag: "enabled", kind: "bool", default: true, help: "toggle" },
  { key: "quiet", flag: "quiet", kind: "bool", default: false, help: "be quiet" },
  { key: "timeout", flag: "timeout", kind: "duration", default: 60_000, help: "a timeout" },
  { key: "peers", flag: "peer", configKey: "peer_addresses", kind: "list", default: [], validate: checkHostPort, help: "a peer (may be given multiple times)" },
  { key: "quantiles", flag: "quantile", kind: "floatList", default: [], above: 0, max: 1, help: "quantiles" },
  { key: "mode", flag: "mode", kind: "string", default: "fast", choices: ["fast", "safe"], normalize: (s: string) => s.toLowerCase(), valueName: "value", help: "mode" },
  { key: "secure", flag: "secure", kind: "string", default: "false", choices: ["false", "true", "strict"], boolFlag: true, help: "bool-like enum" },
  { key: "internal", flag: "internal", settable: false, kind: "int", default: 7, help: "not settable" },
] as const satisfies readonly OptionSpec[];

type DemoOptions = OptionsOf<typeof table>;
const schema = buildOptionsSchema(table);

function flagError(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlagError);
    return err as FlagError;
  }
  throw new Error("expected a FlagError");
}

describe("parseArgs: flag styles", () => {
  test("-name=value, --name=value, -name value, --name value", () => {
    for (const argv of [["-name=x"], ["--name=x"], ["-name", "x"], ["--name", "x"]]) {
      expect(parseArgs(table, argv).values).toEqual({ name: "x" });
    }
  });

  test("only given flags appear in values", () => {
    const parsed = parseArgs(table, []);
    expect(parsed).toEqual({ values: {}, version: false, help: false, warnings: [] });
  });

  test("values may contain '=' and may start with '-'", () => {
    expect(parseArgs(table, ["--name=a=b"]).values.name).toBe("a=b");
    expect(parseArgs(table, ["--name", "-x"]).values.name).toBe("-x");
    expect(parseArgs(table, ["--name="]).values.name).toBe("");
  });

  test("the last occurrence of a scalar flag wins", () => {
    expect(parseArgs(table, ["--count=1", "-count", "2"]).values.count).toBe(2);
  });

  test("typed conversion by kind", () => {
    const { values } = parseArgs(table, [
      "--count=0x0a",
      "--ratio=.25",
      "--timeout=1h30m",
      "--mode=SAFE",
      "--quantile=0.5",
    ]);
    expect(values).toEqual({ count: 10, ratio: 0.25, timeout: 5_400_000, mode: "safe", quantiles: [0.5] });
  });
});

describe("parseArgs: booleans", () => {
  test("bare flag means true", () => {
    expect(parseArgs(table, ["--quiet"]).values.quiet).toBe(true);
    expect(parseArgs(table, ["-quiet"]).values.quiet).toBe(true);
  });

  test("explicit values use Go's ParseBool", () => {
    for (const t of ["true", "TRUE", "True", "t", "T", "1"]) expect(parseArgs(table, [`--enabled=${t}`]).values.enabled).toBe(true);
    for (const f of ["false", "FALSE", "False", "f", "F", "0"]) expect(parseArgs(table, [`--enabled=${f}`]).values.enabled).toBe(false);
  });

  test("never consume the next argument", () => {
    const err = flagError(() => parseArgs(table, ["--enabled", "false"]));
    expect(err.message).toContain('unexpected argument "false"');
    expect(parseArgs(table, ["--quiet", "--count=1"]).values).toEqual({ quiet: true, count: 1 });
  });

  test("bad boolean value names flag and value", () => {
    const err = flagError(() => parseArgs(table, ["--enabled=yes"]));
    expect(err.message).toBe('invalid value "yes" for flag -enabled: expected a boolean (true or false)');
    expect(err.flag).toBe("enabled");
    expect(err.value).toBe("yes");
    expect(() => parseArgs(table, ["--enabled="])).toThrow(/invalid value "" for flag -enabled/);
  });

  test("bool-like flags (IsBoolFlag) accept a bare form and named values", () => {
    expect(parseArgs(table, ["--secure"]).values.secure).toBe("true");
    expect(parseArgs(table, ["--secure=strict"]).values.secure).toBe("strict");
    expect(() => parseArgs(table, ["--secure", "strict"])).toThrow(/unexpected argument "strict"/);
    expect(() => parseArgs(table, ["--secure=maybe"])).toThrow(/invalid value "maybe" for flag -secure/);
  });
});

describe("parseArgs: repeatable flags", () => {
  test("list flags accumulate in order", () => {
    const { values } = parseArgs(table, ["--peer=a:1", "-peer", "b:2", "--count=1", "--peer", "c:3"]);
    expect(values.peers).toEqual(["a:1", "b:2", "c:3"]);
  });

  test("list values are not split on commas", () => {
    expect(parseArgs(table, ["--peer=a:1,b:2"]).values.peers).toEqual(["a:1,b:2"]);
  });

  test("float lists accept repeats and comma-separated values", () => {
    const { values } = parseArgs(table, ["--quantile=0.5, 0.9", "--quantile", "0.99", "-quantile=1"]);
    expect(values.quantiles).toEqual([0.5, 0.9, 0.99, 1]);
  });

  test("bad element in a float list", () => {
    expect(() => parseArgs(table, ["--quantile=0.5,x"])).toThrow('invalid value "0.5,x" for flag -quantile: expected a number');
  });
});

describe("parseArgs: errors", () => {
  test("unknown flag", () => {
    const err = flagError(() => parseArgs(table, ["--nope=1"]));
    expect(err.message).toBe("flag provided but not defined: -nope");
    expect(err.flag).toBe("nope");
  });

  test("options that are not settable are unknown flags", () => {
    expect(() => parseArgs(table, ["--internal=1"])).toThrow("flag provided but not defined: -internal");
  });

  test("missing argument", () => {
    expect(() => parseArgs(table, ["--count"])).toThrow("flag needs an argument: -count");
    expect(() => parseArgs(table, ["--config"])).toThrow("flag needs an argument: -config");
  });

  test("bad values name the flag and the value", () => {
    const cases: Array<[string[], string]> = [
      [["--count=abc"], 'invalid value "abc" for flag -count: expected an integer'],
      [["--count", "1.5"], 'invalid value "1.5" for flag -count: expected an integer'],
      [["--ratio=x"], 'invalid value "x" for flag -ratio: expected a number'],
      [["--timeout=60"], 'invalid value "60" for flag -timeout: time: missing unit in duration "60"'],
      [["--timeout=abc"], 'invalid value "abc" for flag -timeout: time: invalid duration "abc"'],
      [["--mode=slow"], 'invalid value "slow" for flag -mode: must be one of "fast", "safe"'],
      [["--version=nah"], 'invalid value "nah" for flag -version: expected a boolean (true or false)'],
    ];
    for (const [argv, message] of cases) expect(() => parseArgs(table, argv)).toThrow(message);
  });

  test("positional arguments are rejected", () => {
    expect(() => parseArgs(table, ["foo"])).toThrow('unexpected argument "foo"');
    expect(() => parseArgs(table, ["--count=1", "foo"])).toThrow('unexpected argument "foo"');
    expect(() => parseArgs(table, ["-"])).toThrow('unexpected argument "-"');
    expect(() => parseArgs(table, ["--", "foo"])).toThrow('unexpected argument "foo"');
  });

  test("a lone -- ends the flags", () => {
    expect(parseArgs(table, ["--count=1", "--"]).values).toEqual({ count: 1 });
  });

  test("bad flag syntax", () => {
    expect(() => parseArgs(table, ["---count=1"])).toThrow("bad flag syntax: ---count=1");
    expect(() => parseArgs(table, ["-=1"])).toThrow("bad flag syntax: -=1");
  });
});

describe("parseArgs: program flags", () => {
  test("--config in every style", () => {
    for (const argv of [["--config=a.toml"], ["-config", "a.toml"], ["--config", "a.toml"]]) {
      expect(parseArgs(table, argv).config).toBe("a.toml");
    }
  });

  test("--version is a boolean", () => {
    expect(parseArgs(table, ["--version"]).version).toBe(true);
    expect(parseArgs(table, ["-version=false"]).version).toBe(false);
  });

  test("-h, -help and --help stop parsing", () => {
    for (const flag of ["-h", "--h", "-help", "--help"]) {
      expect(parseArgs(table, [flag]).help).toBe(true);
    }
    expect(parseArgs(table, ["--count=1", "--help", "--bogus", "positional"])).toEqual({
      values: { count: 1 },
      version: false,
      help: true,
      warnings: [],
    });
  });
});

describe("Go scalar parsers", () => {
  test("parseGoInt follows strconv.ParseInt base 0", () => {
    expect(parseGoInt("0")).toBe(0);
    expect(parseGoInt("42")).toBe(42);
    expect(parseGoInt("-42")).toBe(-42);
    expect(parseGoInt("+7")).toBe(7);
    expect(parseGoInt("1_000")).toBe(1000);
    expect(parseGoInt("0x1F")).toBe(31);
    expect(parseGoInt("0b101")).toBe(5);
    expect(parseGoInt("0o17")).toBe(15);
    expect(parseGoInt("010")).toBe(8);
    for (const bad of ["", "1.0", "1e3", "abc", "_1", "1__0", "1_", "08", "0x", " 1", "9007199254740993"]) {
      expect(() => parseGoInt(bad)).toThrow();
    }
  });

  test("parseGoFloat", () => {
    expect(parseGoFloat("0.5")).toBe(0.5);
    expect(parseGoFloat(".5")).toBe(0.5);
    expect(parseGoFloat("1.")).toBe(1);
    expect(parseGoFloat("1e-2")).toBe(0.01);
    expect(parseGoFloat("-2")).toBe(-2);
    for (const bad of ["", ".", "abc", "1,5", "inf", "NaN", "1e999"]) expect(() => parseGoFloat(bad)).toThrow();
  });

  test("parseGoBool", () => {
    expect(parseGoBool("t")).toBe(true);
    expect(parseGoBool("0")).toBe(false);
    expect(() => parseGoBool("yes")).toThrow();
    expect(() => parseGoBool("tRuE")).toThrow();
  });
});

describe("config files", () => {
  let dir = "";
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bunsq-flags-"));
    await writeFile(
      file("full.toml"),
      [
        'name = "from-config"',
        "count = 5",
        "ratio = 0.75",
        "enabled = false",
        'timeout = "1m30s"',
        'peer_addresses = ["a:1", "b:2"]',
        "quantile = [0.5, 0.99]",
        'mode = "SAFE"',
        "secure = true",
        "",
      ].join("\n"),
    );
    await writeFile(file("numbers.toml"), "timeout = 2500\nquantile = \"0.5,0.9\"\ncount = \"0x10\"\n");
    await writeFile(file("unknown.toml"), 'bogus_key = 1\ninternal = 3\nname = "ok"\n');
    await writeFile(file("bad-count.toml"), 'count = "lots"\n');
    await writeFile(file("bad-duration.toml"), 'timeout = "60"\n');
    await writeFile(file("bad-list.toml"), "peer_addresses = [true]\n");
    await writeFile(file("bad-syntax.toml"), "name = \n");
    await writeFile(file("override.toml"), 'name = "config"\ncount = 9\npeer_addresses = ["c:1"]\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("typed values keyed by option key", () => {
    expect(loadConfigFile(table, file("full.toml"))).toEqual({
      name: "from-config",
      count: 5,
      ratio: 0.75,
      enabled: false,
      timeout: 90_000,
      peers: ["a:1", "b:2"],
      quantiles: [0.5, 0.99],
      mode: "safe",
      secure: "true",
    });
  });

  test("numbers are milliseconds for durations; strings are coerced", () => {
    expect(loadConfigFile(table, file("numbers.toml"))).toEqual({ timeout: 2500, quantiles: [0.5, 0.9], count: 16 });
  });

  test("unknown keys warn and are ignored", () => {
    const warnings: string[] = [];
    const values = loadConfigFile(table, file("unknown.toml"), { warn: (m) => warnings.push(m) });
    expect(values).toEqual({ name: "ok" });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('unknown config key "bogus_key"');
    expect(warnings[1]).toContain('unknown config key "internal"');
  });

  test("bad values throw naming the key and value", () => {
    expect(() => loadConfigFile(table, file("bad-count.toml"))).toThrow(
      /invalid value "lots" for config key "count" in .*bad-count\.toml: expected an integer/,
    );
    expect(() => loadConfigFile(table, file("bad-duration.toml"))).toThrow(/config key "timeout".*missing unit/);
    expect(() => loadConfigFile(table, file("bad-list.toml"))).toThrow(/config key "peer_addresses".*array of strings/);
  });

  test("unreadable or malformed files", () => {
    expect(() => loadConfigFile(table, file("missing.toml"))).toThrow(/failed to load config file/);
    expect(() => loadConfigFile(table, file("bad-syntax.toml"))).toThrow(/failed to load config file/);
  });

  test("resolveOptions: defaults < config < flags", () => {
    const resolved = resolveOptions(table, [`--config=${file("override.toml")}`, "--count=2"]);
    expect(resolved.config).toBe(file("override.toml"));
    expect(resolved.values).toEqual({ ...defaultValues(table), name: "config", count: 2, peers: ["c:1"] });
  });

  test("resolveOptions: a repeatable flag replaces the config list", () => {
    const resolved = resolveOptions(table, ["--peer=x:1", "--config", file("override.toml"), "--peer=y:2"]);
    expect(resolved.values.peers).toEqual(["x:1", "y:2"]);
  });

  test("resolveOptions without --config gives defaults plus flags", () => {
    expect(resolveOptions(table, ["--quiet"]).values).toEqual({ ...defaultValues(table), quiet: true });
  });

  test("resolveOptions skips the config file for --help and --version", () => {
    expect(resolveOptions(table, ["--config=/does/not/exist.toml", "--version"]).version).toBe(true);
    expect(resolveOptions(table, ["--config=/does/not/exist.toml", "--help"]).help).toBe(true);
    expect(() => resolveOptions(table, ["--config=/does/not/exist.toml"])).toThrow(/failed to load config file/);
  });
});

describe("schema built from a table", () => {
  test("defaults fill missing keys", () => {
    const options: DemoOptions = schema.parse({});
    expect(options).toEqual({
      name: "demo",
      listen: "0.0.0.0:4160",
      count: 3,
      ratio: 0.5,
      enabled: true,
      quiet: false,
      timeout: 60_000,
      peers: [],
      quantiles: [],
      mode: "fast",
      secure: "false",
      internal: 7,
    });
  });

  test("defaults are fresh copies", () => {
    const a = defaultValues(table);
    (a.peers as string[]).push("x:1");
    expect(defaultValues(table).peers).toEqual([]);
  });

  test("duration strings are accepted programmatically", () => {
    expect(schema.parse({ timeout: "1.5s" }).timeout).toBe(1500);
  });

  test("validateOptions lists every invalid field by flag name", () => {
    let error: unknown;
    try {
      validateOptions(table, schema, {
        count: 11,
        ratio: 0,
        listen: "nowhere",
        peers: ["ok:1", "bad"],
        quantiles: [2],
        mode: "slow",
        timeout: "soon",
        internal: 1.5,
        extra: true,
      }, "demo options");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OptionsError);
    const e = error as OptionsError;
    expect(e.message.startsWith("invalid demo options:\n")).toBe(true);
    expect(e.problems).toEqual([
      '--listen-address: missing port, expected host:port (got "nowhere")',
      "--count: must be <= 10 (got 11)",
      "--ratio: must be > 0 (got 0)",
      '--timeout: time: invalid duration "soon"',
      '--peer[1]: missing port, expected host:port (got "bad")',
      "--quantile[0]: must be <= 1 (got 2)",
      '--mode: must be one of "fast", "safe" (got "slow")',
      "internal: expected an integer (got 1.5)",
      'unknown option(s): "extra"',
    ]);
  });
});

describe("address validators", () => {
  test("checkHostPort accepts host:port forms", () => {
    for (const ok of ["0.0.0.0:4150", ":4150", "[::]:4150", "[::1]:4151", "localhost:4160", "nsq-1.example.com:1", "[fe80::1%eth0]:80", "h:0", "h:65535"]) {
      expect(checkHostPort(ok)).toBeUndefined();
    }
  });

  test("checkHostPort rejects malformed addresses", () => {
    for (const bad of ["", "4150", "localhost", "host:", "host:abc", "host:65536", "::1:4150", "[::1:4150", "[nothex]:1", "bad host:1", "h:-1"]) {
      expect(checkHostPort(bad)).toBeString();
    }
  });

  test("checkHostPortOrUrl", () => {
    expect(checkHostPortOrUrl("auth:4181")).toBeUndefined();
    expect(checkHostPortOrUrl("https://auth.example.com/auth")).toBeUndefined();
    expect(checkHostPortOrUrl("http://")).toBeString();
    expect(checkHostPortOrUrl("auth")).toBeString();
  });
});

describe("formatHelp", () => {
  const help = formatHelp("demo", table);

  test("Go flag usage layout, sorted, with program flags", () => {
    expect(help.startsWith("Usage of demo:\n  -config string\n    \tpath to config file\n")).toBe(true);
    const names = [...help.matchAll(/^ {2}-(\S+)/gm)].map((m) => m[1]);
    expect(names).toEqual([...names].sort());
    expect(names).toContain("version");
    expect(names).not.toContain("internal");
    expect(help.endsWith("\n")).toBe(true);
  });

  test("type words and defaults", () => {
    expect(help).toContain('  -name string\n    \ta name (default "demo")\n');
    expect(help).toContain("  -count int\n    \ta count (default 3)\n");
    expect(help).toContain("  -ratio float\n    \ta ratio (default 0.5)\n");
    expect(help).toContain("  -timeout duration\n    \ta timeout (default 1m0s)\n");
    expect(help).toContain("  -enabled\n    \ttoggle (default true)\n");
    expect(help).toContain("  -mode value\n    \tmode (default fast)\n");
    expect(help).toContain("  -peer value\n    \ta peer (may be given multiple times)\n");
  });

  test("zero defaults are omitted", () => {
    expect(help).toContain("  -quiet\n    \tbe quiet\n");
    expect(help).toContain("  -quantile value\n    \tquantiles\n");
    expect(help).toContain("  -secure\n    \tbool-like enum\n");
  });
});

describe("deprecated flags", () => {
  const withOld = [
    {
      key: "level",
      flag: "log-level",
      kind: "string",
      default: "info",
      help: "level",
      deprecatedFlags: [{ flag: "verbose", sets: "debug", instead: "log-level=debug", help: "[deprecated] old verbose" }],
    },
    {
      key: "id",
      flag: "node-id",
      kind: "int",
      default: 5,
      help: "id",
      deprecatedFlags: [{ flag: "worker-id", instead: "node-id", help: "[deprecated] use --node-id" }],
    },
  ] as const satisfies readonly OptionSpec[];

  test("an old name sets the option and warns in go-options' words", () => {
    const parsed = parseArgs(withOld, ["--worker-id", "7", "-verbose"]);
    expect(parsed.values).toEqual({ id: 7, level: "debug" });
    expect(parsed.warnings).toEqual([
      "use of the --worker-id command line flag is deprecated (use --node-id)",
      "use of the --verbose command line flag is deprecated (use --log-level=debug)",
    ]);
    expect(parseArgs(withOld, ["--worker-id=9", "--worker-id=8"]).warnings).toHaveLength(1);
  });

  test("the option's own flag wins in either order", () => {
    expect(parseArgs(withOld, ["--node-id=3", "--worker-id=7"]).values).toEqual({ id: 3 });
    expect(parseArgs(withOld, ["--worker-id=7", "--node-id=3"]).values).toEqual({ id: 3 });
    expect(parseArgs(withOld, ["--verbose", "--log-level=warn"]).values).toEqual({ level: "warn" });
  });

  test("a boolean old flag: =false sets nothing, a bad boolean and a bad value are errors", () => {
    expect(parseArgs(withOld, ["--verbose=false"]).values).toEqual({});
    expect(flagError(() => parseArgs(withOld, ["--verbose=loud"])).message).toBe(
      'invalid value "loud" for flag -verbose: expected a boolean (true or false)',
    );
    expect(flagError(() => parseArgs(withOld, ["--worker-id=x"])).message).toBe(
      'invalid value "x" for flag -worker-id: expected an integer',
    );
  });

  test("help lists them; they cannot reuse a name", () => {
    const help = formatHelp("demo", withOld);
    expect(help).toContain("  -verbose\n    \t[deprecated] old verbose\n");
    expect(help).toContain("  -worker-id int\n    \t[deprecated] use --node-id\n");
    const clash = [
      { key: "a", flag: "a", kind: "int", default: 0, help: "" },
      { key: "b", flag: "b", kind: "int", default: 0, help: "", deprecatedFlags: [{ flag: "a", instead: "b", help: "" }] },
    ] as const;
    expect(() => parseArgs(clash, [])).toThrow(/already taken/);
  });
});

describe("table checks", () => {
  test("reserved and duplicate flag names are rejected", () => {
    const reserved = [{ key: "config", flag: "config", kind: "string", default: "", help: "" }] as const;
    expect(() => parseArgs(reserved, [])).toThrow(/reserved/);
    const dup = [
      { key: "a", flag: "same", kind: "int", default: 0, help: "" },
      { key: "b", flag: "same", kind: "int", default: 0, help: "" },
    ] as const;
    expect(() => formatHelp("x", dup)).toThrow(/duplicate/);
  });
});
