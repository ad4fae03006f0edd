import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { configKeyOf, FlagError, formatHelp, OptionsError, parseArgs } from "../../src/options/flags.ts";
import {
  defaultNodeId,
  defaultNsqdOptions,
  nsqdOptionsSchema,
  nsqdOptionTable,
  parseNsqdOptions,
  resolveNsqdOptions,
  TLS_VERSIONS,
  type NsqdOptions,
} from "../../src/core/options.ts";
import { resolveLookupdOptions } from "../../src/lookupd/options.ts";
import { resolveAdminOptions } from "../../src/admin/options.ts";

function problemsOf(partial: Record<string, unknown>): string[] {
  try {
    parseNsqdOptions(partial);
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    return (err as OptionsError).problems;
  }
  throw new Error("expected validation to fail");
}

function resolve(argv: string[]): NsqdOptions {
  return resolveNsqdOptions(argv).options;
}

describe("defaults (NSQ 1.3 nsqd)", () => {
  const expected: Omit<NsqdOptions, "nodeId" | "broadcastAddress"> = {
    logLevel: "info",
    logPrefix: "[nsqd] ",
    tcpAddress: "0.0.0.0:4150",
    httpAddress: "0.0.0.0:4151",
    httpsAddress: "0.0.0.0:4152",
    broadcastTcpPort: 0,
    broadcastHttpPort: 0,
    lookupdTcpAddresses: [],
    authHttpAddresses: [],
    authHttpRequestMethod: "get",
    httpClientConnectTimeout: 2_000,
    httpClientRequestTimeout: 5_000,
    dataPath: "",
    memQueueSize: 10_000,
    maxBytesPerFile: 104_857_600,
    syncEvery: 2_500,
    syncTimeout: 2_000,
    queueScanInterval: 100,
    queueScanRefreshInterval: 5_000,
    queueScanSelectionCount: 20,
    queueScanWorkerPoolMax: 4,
    queueScanDirtyPercent: 0.25,
    msgTimeout: 60_000,
    maxMsgTimeout: 900_000,
    maxMsgSize: 1_048_576,
    maxBodySize: 5_242_880,
    maxReqTimeout: 3_600_000,
    clientTimeout: 60_000,
    maxHeartbeatInterval: 60_000,
    maxRdyCount: 2_500,
    maxOutputBufferSize: 65_536,
    maxOutputBufferTimeout: 30_000,
    minOutputBufferTimeout: 25,
    outputBufferTimeout: 250,
    maxChannelConsumers: 0,
    statsdAddress: "",
    statsdPrefix: "nsq.%s",
    statsdInterval: 60_000,
    statsdMemStats: true,
    statsdUdpPacketSize: 508,
    statsdExcludeEphemeral: false,
    e2eProcessingLatencyWindowTime: 600_000,
    e2eProcessingLatencyPercentiles: [],
    tlsCert: "",
    tlsKey: "",
    tlsClientAuthPolicy: "",
    tlsRootCaFile: "",
    tlsRequired: "false",
    tlsMinVersion: "tls1.0",
    deflate: true,
    maxDeflateLevel: 6,
    snappy: true,
    maxConnections: 0,
    workers: 1,
  };

  test("every default", () => {
    const { nodeId, broadcastAddress, ...rest } = defaultNsqdOptions();
    expect(rest).toEqual(expected);
    expect(broadcastAddress).toBe(hostname());
    expect(nodeId).toBe(defaultNodeId(hostname()));
  });

  test("same defaults from the schema, an empty argv and parseNsqdOptions({})", () => {
    expect(nsqdOptionsSchema.parse({})).toEqual(defaultNsqdOptions());
    expect(resolve([])).toEqual(defaultNsqdOptions());
    expect(parseNsqdOptions({})).toEqual(defaultNsqdOptions());
  });

  test("default arrays are not shared between calls", () => {
    const a = defaultNsqdOptions();
    a.lookupdTcpAddresses.push("x:1");
    expect(defaultNsqdOptions().lookupdTcpAddresses).toEqual([]);
  });

  test("node id is crc32(md5(hostname)) % 1024, like Go nsqd", () => {
    for (const host of ["localhost", "nsq-1.example.com", "", hostname()]) {
      const id = defaultNodeId(host);
      expect(id).toBe(crc32(createHash("md5").update(host).digest()) % 1024);
      expect(Number.isInteger(id) && id >= 0 && id <= 1023).toBe(true);
    }
    expect(defaultNodeId("some-host")).toBe(defaultNodeId("some-host"));
  });
});

describe("the option table", () => {
  const flags: string[] = nsqdOptionTable.filter((s) => !("settable" in s)).map((s) => s.flag);

  test("declares exactly nsqd's flags plus max-connections and workers", () => {
    expect([...flags].sort()).toEqual(
      [
        "node-id", "log-level", "log-prefix", "tcp-address", "http-address", "https-address",
        "broadcast-address", "broadcast-tcp-port", "broadcast-http-port", "lookupd-tcp-address",
        "auth-http-address", "auth-http-request-method", "http-client-connect-timeout",
        "http-client-request-timeout", "data-path", "mem-queue-size", "max-bytes-per-file", "sync-every",
        "sync-timeout", "queue-scan-interval", "queue-scan-refresh-interval", "queue-scan-selection-count",
        "queue-scan-worker-pool-max", "queue-scan-dirty-percent", "msg-timeout", "max-msg-timeout",
        "max-msg-size", "max-body-size", "max-req-timeout", "max-heartbeat-interval", "max-rdy-count",
        "max-output-buffer-size", "max-output-buffer-timeout", "min-output-buffer-timeout",
        "output-buffer-timeout", "max-channel-consumers", "statsd-address", "statsd-prefix",
        "statsd-interval", "statsd-mem-stats", "statsd-udp-packet-size", "statsd-exclude-ephemeral",
        "e2e-processing-latency-window-time", "e2e-processing-latency-percentile", "tls-cert", "tls-key",
        "tls-client-auth-policy", "tls-root-ca-file", "tls-required", "tls-min-version", "deflate",
        "max-deflate-level", "snappy", "max-connections", "workers",
      ].sort(),
    );
  });

  test("config keys are flag names with underscores, except the repeatable ones", () => {
    const keys = Object.fromEntries(nsqdOptionTable.map((s) => [s.flag, configKeyOf(s)]));
    expect(keys["lookupd-tcp-address"]).toBe("nsqlookupd_tcp_addresses");
    expect(keys["auth-http-address"]).toBe("auth_http_addresses");
    expect(keys["e2e-processing-latency-percentile"]).toBe("e2e_processing_latency_percentiles");
    expect(keys["mem-queue-size"]).toBe("mem_queue_size");
    expect(keys["tls-min-version"]).toBe("tls_min_version");
    expect(keys["client-timeout"]).toBeNull();
  });

  test("help lists every flag with Go-style defaults", () => {
    const help = formatHelp("nsqd", nsqdOptionTable);
    for (const flag of flags) expect(help).toContain(`\n  -${flag}`);
    expect(help).not.toContain("client-timeout");
    expect(help).toContain('  -tcp-address string\n    \thost:port where the TCP protocol (V2) listens (default "0.0.0.0:4150")\n');
    expect(help).toContain("  -msg-timeout duration\n");
    expect(help).toContain("(default 1m0s)");
    expect(help).toContain("  -max-connections int\n");
    expect(help).toContain("  -tls-required\n");
  });
});

describe("argv", () => {
  test("every kind of flag sets its option", () => {
    const o = resolve([
      "--tcp-address=127.0.0.1:5150",
      "-http-address", ":5151",
      "--https-address=[::1]:5152",
      "--node-id=7",
      "--log-level=DEBUG",
      "--log-prefix=[x] ",
      "--broadcast-address=nsq.local",
      "--broadcast-tcp-port=6150",
      "--broadcast-http-port", "6151",
      "--lookupd-tcp-address=l1:4160",
      "--lookupd-tcp-address", "l2:4160",
      "--auth-http-address=auth:4181",
      "--auth-http-request-method=post",
      "--http-client-connect-timeout=1s",
      "--http-client-request-timeout=3s",
      "--data-path=/var/lib/nsq",
      "--mem-queue-size=0",
      "--max-bytes-per-file=1024",
      "--sync-every=1",
      "--sync-timeout=500ms",
      "--queue-scan-interval=50ms",
      "--queue-scan-refresh-interval=1s",
      "--queue-scan-selection-count=10",
      "--queue-scan-worker-pool-max=8",
      "--queue-scan-dirty-percent=0.5",
      "--msg-timeout=30s",
      "--max-msg-timeout=1h",
      "--max-msg-size=100",
      "--max-body-size=200",
      "--max-req-timeout=2h",
      "--max-heartbeat-interval=30s",
      "--max-rdy-count=100",
      "--max-output-buffer-size=1024",
      "--max-output-buffer-timeout=10s",
      "--min-output-buffer-timeout=10ms",
      "--output-buffer-timeout=100ms",
      "--max-channel-consumers=5",
      "--statsd-address=statsd:8125",
      "--statsd-prefix=bunsq.%s",
      "--statsd-interval=10s",
      "--statsd-mem-stats=false",
      "--statsd-udp-packet-size=1400",
      "--statsd-exclude-ephemeral",
      "--e2e-processing-latency-window-time=1m",
      "--e2e-processing-latency-percentile=0.99,0.95",
      "--e2e-processing-latency-percentile", "1.0",
      "--tls-cert=cert.pem",
      "--tls-key=key.pem",
      "--tls-client-auth-policy=require-verify",
      "--tls-root-ca-file=ca.pem",
      "--tls-required=tcp-https",
      "--tls-min-version=TLS1.2",
      "--deflate=false",
      "--max-deflate-level=9",
      "-snappy=false",
      "--max-connections=1000",
    ]);
    expect(o).toEqual({
      tcpAddress: "127.0.0.1:5150",
      httpAddress: ":5151",
      httpsAddress: "[::1]:5152",
      nodeId: 7,
      logLevel: "debug",
      logPrefix: "[x] ",
      broadcastAddress: "nsq.local",
      broadcastTcpPort: 6150,
      broadcastHttpPort: 6151,
      lookupdTcpAddresses: ["l1:4160", "l2:4160"],
      authHttpAddresses: ["auth:4181"],
      authHttpRequestMethod: "post",
      httpClientConnectTimeout: 1_000,
      httpClientRequestTimeout: 3_000,
      dataPath: "/var/lib/nsq",
      memQueueSize: 0,
      maxBytesPerFile: 1024,
      syncEvery: 1,
      syncTimeout: 500,
      queueScanInterval: 50,
      queueScanRefreshInterval: 1_000,
      queueScanSelectionCount: 10,
      queueScanWorkerPoolMax: 8,
      queueScanDirtyPercent: 0.5,
      msgTimeout: 30_000,
      maxMsgTimeout: 3_600_000,
      maxMsgSize: 100,
      maxBodySize: 200,
      maxReqTimeout: 7_200_000,
      clientTimeout: 60_000,
      maxHeartbeatInterval: 30_000,
      maxRdyCount: 100,
      maxOutputBufferSize: 1024,
      maxOutputBufferTimeout: 10_000,
      minOutputBufferTimeout: 10,
      outputBufferTimeout: 100,
      maxChannelConsumers: 5,
      statsdAddress: "statsd:8125",
      statsdPrefix: "bunsq.%s",
      statsdInterval: 10_000,
      statsdMemStats: false,
      statsdUdpPacketSize: 1400,
      statsdExcludeEphemeral: true,
      e2eProcessingLatencyWindowTime: 60_000,
      e2eProcessingLatencyPercentiles: [0.99, 0.95, 1],
      tlsCert: "cert.pem",
      tlsKey: "key.pem",
      tlsClientAuthPolicy: "require-verify",
      tlsRootCaFile: "ca.pem",
      tlsRequired: "tcp-https",
      tlsMinVersion: "tls1.2",
      deflate: false,
      maxDeflateLevel: 9,
      snappy: false,
      maxConnections: 1000,
      workers: 1,
    });
  });

  test("client timeout is not a flag", () => {
    expect(() => resolve(["--client-timeout=1s"])).toThrow("flag provided but not defined: -client-timeout");
  });

  test("tls-required is a bool-like flag", () => {
    const tls = ["--tls-cert=c", "--tls-key=k"];
    expect(resolve([...tls, "--tls-required"]).tlsRequired).toBe("true");
    expect(resolve([...tls, "--tls-required=TRUE"]).tlsRequired).toBe("true");
    expect(resolve([...tls, "--tls-required=1"]).tlsRequired).toBe("true");
    expect(resolve([...tls, "--tls-required=false"]).tlsRequired).toBe("false");
    expect(resolve([...tls, "--tls-required=TCP-HTTPS"]).tlsRequired).toBe("tcp-https");
    expect(() => resolve(["--tls-required=sometimes"])).toThrow(/invalid value "sometimes" for flag -tls-required/);
  });

  test("tls-min-version names", () => {
    for (const v of TLS_VERSIONS) expect(resolve([`--tls-min-version=${v}`]).tlsMinVersion).toBe(v);
    expect(resolve(["--tls-min-version="]).tlsMinVersion).toBe("tls1.0");
    expect(() => resolve(["--tls-min-version=tls2.0"])).toThrow(/invalid value "tls2.0" for flag -tls-min-version/);
  });

  test("log-level", () => {
    expect(resolve(["--log-level=warn"]).logLevel).toBe("warn");
    expect(() => resolve(["--log-level=verbose"])).toThrow(/invalid value "verbose" for flag -log-level/);
  });

  test("NSQ's deprecated --verbose and --worker-id are accepted, with warnings", () => {
    const old = resolveNsqdOptions(["--verbose", "--worker-id=77"]);
    expect(old.options.logLevel).toBe("debug");
    expect(old.options.nodeId).toBe(77);
    expect(old.warnings).toEqual([
      "use of the --verbose command line flag is deprecated (use --log-level=debug)",
      "use of the --worker-id command line flag is deprecated (use --node-id)",
    ]);
    expect(resolve(["--worker-id=77", "--node-id=5"]).nodeId).toBe(5);
    expect(() => resolve(["--worker-id=2000"])).toThrow("--node-id: must be <= 1023 (got 2000)");
    // NSQ 1.3 declares --worker-id a boolean that does nothing: those command lines still start
    expect(resolve(["--worker-id"]).nodeId).toBe(defaultNodeId());
    expect(resolve(["--worker-id=false"]).nodeId).toBe(defaultNodeId());
    expect(resolve(["--worker-id", "--node-id=9"]).nodeId).toBe(9);
    expect(resolve(["--worker-id=1"]).nodeId).toBe(1);
    expect(() => resolve(["--worker-id=x"])).toThrow('invalid value "x" for flag -worker-id: expected an integer');
    for (const resolveOther of [resolveLookupdOptions, resolveAdminOptions]) {
      const other = resolveOther(["--verbose"]);
      expect(other.options.logLevel).toBe("debug");
      expect(other.warnings).toHaveLength(1);
    }
    const help = formatHelp("nsqd", nsqdOptionTable);
    expect(help).toContain("  -verbose\n");
    expect(help).toContain("  -worker-id\n");
  });

  test("bad values name the flag", () => {
    expect(() => resolve(["--mem-queue-size=many"])).toThrow('invalid value "many" for flag -mem-queue-size');
    expect(() => resolve(["--msg-timeout=60"])).toThrow('invalid value "60" for flag -msg-timeout');
    expect(() => resolve(["--deflate=maybe"])).toThrow('invalid value "maybe" for flag -deflate');
    expect(() => resolve(["--e2e-processing-latency-percentile=high"])).toThrow(
      'invalid value "high" for flag -e2e-processing-latency-percentile',
    );
    expect(() => resolve(["--max-deflate-level=10"])).toThrow("--max-deflate-level: must be <= 9 (got 10)");
    expect(() => resolve(["--tcp-address=4150"])).toThrow("--tcp-address: missing port");
  });

  test("--help and --version do not validate the other values", () => {
    expect(resolveNsqdOptions(["--max-deflate-level=10", "--version"]).version).toBe(true);
    expect(resolveNsqdOptions(["--help"]).help).toBe(true);
  });
});

describe("validation", () => {
  test("addresses must be host:port", () => {
    for (const ok of [":4150", "0.0.0.0:4150", "[::]:4150", "[::1]:4150", "localhost:4150"]) {
      expect(parseNsqdOptions({ tcpAddress: ok }).tcpAddress).toBe(ok);
    }
    expect(problemsOf({ tcpAddress: "localhost" })[0]).toStartWith("--tcp-address: missing port");
    expect(problemsOf({ httpAddress: "::1:4151" })[0]).toStartWith("--http-address: too many colons");
    expect(problemsOf({ httpsAddress: "host:99999" })[0]).toStartWith("--https-address: invalid port");
    expect(problemsOf({ lookupdTcpAddresses: ["ok:1", "nope"] })[0]).toStartWith("--lookupd-tcp-address[1]:");
    expect(problemsOf({ statsdAddress: "statsd" })[0]).toStartWith("--statsd-address:");
    expect(parseNsqdOptions({ authHttpAddresses: ["https://auth.example/auth", "auth:4181"] }).authHttpAddresses).toHaveLength(2);
    expect(problemsOf({ authHttpAddresses: ["auth"] })[0]).toStartWith("--auth-http-address[0]:");
  });

  test("numeric ranges", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ nodeId: -1 }, "--node-id: must be >= 0 (got -1)"],
      [{ nodeId: 1024 }, "--node-id: must be <= 1023 (got 1024)"],
      [{ maxDeflateLevel: 0 }, "--max-deflate-level: must be >= 1 (got 0)"],
      [{ maxDeflateLevel: 10 }, "--max-deflate-level: must be <= 9 (got 10)"],
      [{ memQueueSize: -1 }, "--mem-queue-size: must be >= 0 (got -1)"],
      [{ maxRdyCount: 0 }, "--max-rdy-count: must be >= 1 (got 0)"],
      [{ maxMsgSize: 0 }, "--max-msg-size: must be >= 1 (got 0)"],
      [{ maxBodySize: -5 }, "--max-body-size: must be >= 1 (got -5)"],
      [{ maxBytesPerFile: 0 }, "--max-bytes-per-file: must be >= 1 (got 0)"],
      [{ maxOutputBufferSize: -1 }, "--max-output-buffer-size: must be >= 0 (got -1)"],
      [{ maxChannelConsumers: -1 }, "--max-channel-consumers: must be >= 0 (got -1)"],
      [{ maxConnections: -1 }, "--max-connections: must be >= 0 (got -1)"],
      [{ broadcastTcpPort: 70000 }, "--broadcast-tcp-port: must be <= 65535 (got 70000)"],
      [{ queueScanDirtyPercent: 0 }, "--queue-scan-dirty-percent: must be > 0 (got 0)"],
      [{ queueScanWorkerPoolMax: 0 }, "--queue-scan-worker-pool-max: must be >= 1 (got 0)"],
      [{ msgTimeout: -1 }, "--msg-timeout: must be >= 1ms (got -1ms)"],
      [{ maxReqTimeout: -1000 }, "--max-req-timeout: must be >= 0s (got -1s)"],
      [{ queueScanInterval: 0 }, "--queue-scan-interval: must be > 0s (got 0s)"],
      [{ statsdInterval: "0s" }, "--statsd-interval: must be > 0s (got 0s)"],
      [{ clientTimeout: 0 }, "clientTimeout: must be > 0s (got 0s)"],
    ];
    for (const [partial, message] of cases) expect(problemsOf(partial)).toEqual([message]);
  });

  test("percentiles must be in (0, 1]", () => {
    expect(parseNsqdOptions({ e2eProcessingLatencyPercentiles: [1, 0.5, 0.001] }).e2eProcessingLatencyPercentiles).toEqual([1, 0.5, 0.001]);
    expect(problemsOf({ e2eProcessingLatencyPercentiles: [0.5, 0, 1.01] })).toEqual([
      "--e2e-processing-latency-percentile[1]: must be > 0 (got 0)",
      "--e2e-processing-latency-percentile[2]: must be <= 1 (got 1.01)",
    ]);
  });

  test("choices", () => {
    expect(problemsOf({ authHttpRequestMethod: "put" })[0]).toStartWith("--auth-http-request-method: must be one of");
    expect(problemsOf({ tlsClientAuthPolicy: "maybe" })[0]).toStartWith("--tls-client-auth-policy: must be one of");
    expect(problemsOf({ logLevel: "trace" })[0]).toStartWith("--log-level: must be one of");
    expect(parseNsqdOptions({ logLevel: "ERROR" }).logLevel).toBe("error");
  });

  test("min-output-buffer-timeout <= max-output-buffer-timeout", () => {
    expect(problemsOf({ minOutputBufferTimeout: "2s", maxOutputBufferTimeout: "1s" })).toEqual([
      "--min-output-buffer-timeout: must be <= --max-output-buffer-timeout",
    ]);
    expect(parseNsqdOptions({ minOutputBufferTimeout: "1s", maxOutputBufferTimeout: "1s" }).minOutputBufferTimeout).toBe(1000);
  });

  test("TLS settings must be consistent", () => {
    expect(problemsOf({ tlsCert: "c.pem" })).toEqual(["--tls-key: --tls-cert and --tls-key must be given together"]);
    expect(problemsOf({ tlsKey: "k.pem" })).toEqual(["--tls-cert: --tls-cert and --tls-key must be given together"]);
    expect(problemsOf({ tlsRequired: "true" })[0]).toStartWith("--tls-required: cannot require TLS");
    expect(problemsOf({ tlsClientAuthPolicy: "require" })[0]).toStartWith("--tls-client-auth-policy: cannot require TLS");
  });

  test("a client auth policy implies tls-required, as in nsqd", () => {
    const tls = { tlsCert: "c.pem", tlsKey: "k.pem" };
    expect(parseNsqdOptions({ ...tls, tlsClientAuthPolicy: "require" }).tlsRequired).toBe("true");
    expect(parseNsqdOptions({ ...tls, tlsClientAuthPolicy: "require", tlsRequired: "tcp-https" }).tlsRequired).toBe("tcp-https");
    expect(parseNsqdOptions(tls).tlsRequired).toBe("false");
  });

  test("durations may be numbers (ms) or Go strings", () => {
    const o = parseNsqdOptions({ msgTimeout: "90s", syncTimeout: 1500, maxReqTimeout: "1h30m" });
    expect([o.msgTimeout, o.syncTimeout, o.maxReqTimeout]).toEqual([90_000, 1_500, 5_400_000]);
    expect(problemsOf({ msgTimeout: "90" })).toEqual(['--msg-timeout: time: missing unit in duration "90"']);
  });

  test("types are checked", () => {
    expect(problemsOf({ memQueueSize: "10" })).toEqual(['--mem-queue-size: expected an integer (got "10")']);
    expect(problemsOf({ deflate: "yes" })).toEqual(['--deflate: expected a boolean (got "yes")']);
    expect(problemsOf({ lookupdTcpAddresses: "a:1" })).toEqual(['--lookupd-tcp-address: expected an array of strings (got "a:1")']);
  });

  test("unknown keys are rejected", () => {
    expect(problemsOf({ tcpAdress: ":4150" })).toEqual(['unknown option(s): "tcpAdress"']);
  });

  test("the error lists every invalid field by flag name", () => {
    let message = "";
    try {
      parseNsqdOptions({ memQueueSize: -1, maxDeflateLevel: 0, nodeId: 5000, tcpAddress: "x", e2eProcessingLatencyPercentiles: [2] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n")[0]).toBe("invalid nsqd options:");
    for (const flag of ["--mem-queue-size", "--max-deflate-level", "--node-id", "--tcp-address", "--e2e-processing-latency-percentile"]) {
      expect(message).toContain(`\n  ${flag}`);
    }
  });
});

describe("config file", () => {
  let dir = "";
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bunsq-options-"));
    await writeFile(
      file("nsqd.toml"),
      [
        "# nsqd config",
        'tcp_address = "127.0.0.1:7150"',
        'http_address = "127.0.0.1:7151"',
        'log_level = "warn"',
        "mem_queue_size = 500",
        'msg_timeout = "2m"',
        "sync_timeout = 750",
        'max_req_timeout = "30m"',
        'nsqlookupd_tcp_addresses = ["l1:4160", "l2:4160"]',
        'auth_http_addresses = ["auth:4181"]',
        "e2e_processing_latency_percentiles = [0.99, 0.5]",
        "statsd_mem_stats = false",
        'data_path = "/tmp/nsq-data"',
        "max_connections = 50",
        'tls_min_version = "tls1.2"',
        "tls_required = false",
        "client_timeout = 5000",
        'lookupd_tcp_address = "ignored:4160"',
        "",
      ].join("\n"),
    );
    await writeFile(file("bad.toml"), "max_rdy_count = 0\nmem_queue_size = \"lots\"\n");
    await writeFile(file("range.toml"), "max_rdy_count = 0\n");
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("config values override defaults, flags override config", () => {
    const warnings: string[] = [];
    const { options, config } = resolveNsqdOptions(
      [`--config=${file("nsqd.toml")}`, "--mem-queue-size=42", "--lookupd-tcp-address=flag:4160", "--log-level=debug"],
      { warn: (m) => warnings.push(m) },
    );
    expect(config).toBe(file("nsqd.toml"));
    // from flags
    expect(options.memQueueSize).toBe(42);
    expect(options.lookupdTcpAddresses).toEqual(["flag:4160"]);
    expect(options.logLevel).toBe("debug");
    // from the config file
    expect(options.tcpAddress).toBe("127.0.0.1:7150");
    expect(options.httpAddress).toBe("127.0.0.1:7151");
    expect(options.msgTimeout).toBe(120_000);
    expect(options.syncTimeout).toBe(750);
    expect(options.maxReqTimeout).toBe(1_800_000);
    expect(options.authHttpAddresses).toEqual(["auth:4181"]);
    expect(options.e2eProcessingLatencyPercentiles).toEqual([0.99, 0.5]);
    expect(options.statsdMemStats).toBe(false);
    expect(options.dataPath).toBe("/tmp/nsq-data");
    expect(options.maxConnections).toBe(50);
    expect(options.tlsMinVersion).toBe("tls1.2");
    expect(options.tlsRequired).toBe("false");
    // defaults
    expect(options.httpsAddress).toBe("0.0.0.0:4152");
    expect(options.maxRdyCount).toBe(2500);
    // not settable from a config file
    expect(options.clientTimeout).toBe(60_000);
    expect(warnings).toHaveLength(2);
    expect(warnings.join("\n")).toContain('"client_timeout"');
    expect(warnings.join("\n")).toContain('"lookupd_tcp_address"');
  });

  test("bad config values name the key", () => {
    expect(() => resolveNsqdOptions([`--config=${file("bad.toml")}`])).toThrow(FlagError);
    expect(() => resolveNsqdOptions([`--config=${file("bad.toml")}`])).toThrow(/config key "mem_queue_size"/);
  });

  test("out-of-range config values are reported by flag name", () => {
    expect(() => resolveNsqdOptions([`--config=${file("range.toml")}`])).toThrow("--max-rdy-count: must be >= 1 (got 0)");
    expect(resolveNsqdOptions([`--config=${file("range.toml")}`, "--max-rdy-count=10"]).options.maxRdyCount).toBe(10);
  });
});

describe("parseArgs with the nsqd table", () => {
  test("returns only the given flags, by option key", () => {
    expect(parseArgs(nsqdOptionTable, ["--max-connections=3", "--snappy=false"]).values).toEqual({
      maxConnections: 3,
      snappy: false,
    });
  });
});
