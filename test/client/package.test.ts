/**
 * The client as a package: scripts/pack-client.ts packs it (npm pack), and the
 * tarball is installed offline into a fresh Node project and a fresh Bun project,
 * each of which imports { Producer, Consumer } from "bunsq/client", publishes and
 * consumes from an nsqd this test runs over snappy (the bundled codec: the native
 * packages are optional peers, not installed there), and type-checks a TypeScript
 * file with tsc against the package's own .d.ts files.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packClient } from "../../scripts/pack-client.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";
import { uniqueTopic } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const NODE = Bun.which("node");
const NPM = Bun.which("npm");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let dir: string;
let tarball: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunsq-package-"));
  tarball = packClient(join(dir, "pack"));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = perTestCleanups();

async function run(cmd: string[], cwd: string, timeoutMs = 60_000) {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  t.defer(() => proc.kill());
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}:\n${stderr}\n${stdout}`);
  return stdout;
}

/** The program both projects run: plain JS that TypeScript also accepts. */
const APP = `import { Consumer, Producer } from "bunsq/client";
const [address, topic] = process.argv.slice(2);
// snappy on both: the native packages are not installed here, so the bundled codec does it
const producer = new Producer(address, { snappy: true });
await producer.multiPublish(topic, ["a", "b", "c"]);
await producer.stop();
const consumer = new Consumer(topic, "ch", { maxInFlight: 3, snappy: true });
await consumer.connectToNsqd(address);
const got = [];
for await (const m of consumer.messages()) {
  got.push(m.text());
  if (got.length === 3) { m.finish(); break; }
}
console.log(JSON.stringify(got));
`;

/** Uses the types: a mistake must be caught, so the types are real and not \`any\`. */
const TYPED = `import { Consumer, Producer, type ConnectionConfig, type Message } from "bunsq/client";
const config: Partial<ConnectionConfig> = { tlsV1: true, snappy: true, authSecret: "s" };
const p = new Producer("127.0.0.1:4150", config);
const done: Promise<void> = p.publish("t", "body");
// @ts-expect-error the topic must be a string
p.publish(42, "body");
const c = new Consumer("t", "c", { maxInFlight: 2, handler: (m: Message) => { m.finish(); } });
const n: number = c.stats().received;
// @ts-expect-error deflateLevel is a number
new Consumer("t", "c", { deflateLevel: "9" });
export { done, n };
`;

function project(name: string, types: string): string {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  writeFileSync(join(root, "app.mjs"), APP);
  writeFileSync(join(root, "typed.ts"), TYPED);
  writeFileSync(
    join(root, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        // the machine is offline: the runtime's types come from this repository's node_modules
        typeRoots: [join(ROOT, "node_modules/@types")],
        types: [types],
      },
      files: ["typed.ts"],
    }),
  );
  return root;
}

test("the packed client has no runtime dependencies and holds only the client", async () => {
  const list = await run(["tar", "tzf", tarball], dir);
  expect(list).toContain("package/client/index.js");
  expect(list).toContain("package/types/client/index.d.ts");
  expect(list).not.toContain("src/");
  expect(list).not.toContain("tcp/");
  const pkg = JSON.parse(await run(["tar", "xzOf", tarball, "package/package.json"], dir));
  expect(pkg.name).toBe("bunsq");
  expect(pkg.dependencies).toBeUndefined();
  // the native snappy packages stay outside the bundle, wanted but not required
  expect(list).not.toContain(".node");
  expect(Object.keys(pkg.peerDependencies).sort()).toEqual(["@node-rs/crc32", "snappy"]);
  expect(pkg.peerDependenciesMeta).toEqual({ snappy: { optional: true }, "@node-rs/crc32": { optional: true } });
});

test.skipIf(NODE === null || NPM === null)("a fresh Node project installs the tarball offline, runs and type-checks", async () => {
  const root = project("node-app", "node");
  await run([NPM!, "install", "--offline", "--no-audit", "--no-fund", tarball], root);
  expect(readdirSync(join(root, "node_modules")).filter((f) => !f.startsWith("."))).toEqual(["bunsq"]);
  const s = t.nsqd();
  const out = await run([NODE!, "app.mjs", `127.0.0.1:${s.tcpPort}`, uniqueTopic("pkg")], root, 20_000);
  expect(JSON.parse(out)).toEqual(["a", "b", "c"]);
  await run([process.execPath, TSC, "-p", "."], root);
}, 90_000);

test("a fresh Bun project installs the tarball offline, runs and type-checks", async () => {
  const root = project("bun-app", "bun");
  await run([process.execPath, "add", "--offline", tarball], root);
  const s = t.nsqd();
  const out = await run([process.execPath, "app.mjs", `127.0.0.1:${s.tcpPort}`, uniqueTopic("pkg")], root, 20_000);
  expect(JSON.parse(out)).toEqual(["a", "b", "c"]);
  await run([process.execPath, TSC, "-p", "."], root);
}, 90_000);
