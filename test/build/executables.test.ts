/**
 * The executables `bun run build` makes, run the way an operator runs them: from
 * a temporary folder with no node_modules, the compiled nsqlookupd, nsqd and
 * nsqadmin form a cluster, the compiled nsq_tail consumes through the lookupd
 * (over snappy, with the native snappy addon embedded in the executables),
 * and the Swagger UI, uPlot and every nsqadmin asset are served from inside the
 * executables. Builds only these four programs (the rest are built the same way).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, lookupProducers } from "../helpers/lookupd.ts";
import { freePorts, waitListening } from "../helpers/process.ts";

const ROOT = join(import.meta.dir, "../..");
const PROGRAMS = ["nsqd", "nsqlookupd", "nsqadmin", "nsq_tail"];

let dir = "";
const procs: Subprocess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunsq-bin-"));
  const build = Bun.spawn(
    ["bun", "scripts/build.ts", `--outdir=${dir}`, ...PROGRAMS.map((p) => `--program=${p}`)],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  const [stderr, code] = await Promise.all([new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`bun scripts/build.ts failed (${code}):\n${stderr}`);
}, 180_000);

afterAll(async () => {
  for (const p of procs) {
    p.kill("SIGKILL");
    await p.exited;
  }
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Starts an executable from the temp folder (its working directory too). */
function start(name: string, args: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const proc = Bun.spawn([join(dir, name), ...args], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  return proc;
}

async function run(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = start(name, args);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function get(url: string): Promise<{ status: number; type: string; body: Uint8Array }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: new Uint8Array(await res.arrayBuffer()) };
}

/** The paths a page loads (href= and src= attributes). */
function linkedPaths(html: string): string[] {
  return [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
}

test("the executables run with no node_modules: cluster, nsq_tail through the lookupd, Swagger UI, nsqadmin's pages", async () => {
  expect(existsSync(join(dir, "node_modules"))).toBe(false);
  expect(readdirSync(dir).sort()).toEqual([...PROGRAMS].sort());

  for (const name of PROGRAMS) {
    const v = await run(name, ["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(
      new RegExp(`^${name} v1\\.3\\.0\\+bunsq \\(bun [\\d.]+, commit [0-9a-f]{7,}(-dirty)?, built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\\n$`),
    );
  }

  const [lookupdTcp, lookupdHttp, nsqdTcp, nsqdHttp, adminHttp] = freePorts(5);
  const lookupd = start("nsqlookupd", [`--tcp-address=127.0.0.1:${lookupdTcp}`, `--http-address=127.0.0.1:${lookupdHttp}`]);
  await waitListening(lookupdHttp!, lookupd);
  const nsqd = start("nsqd", [
    `--tcp-address=127.0.0.1:${nsqdTcp}`,
    `--http-address=127.0.0.1:${nsqdHttp}`,
    `--lookupd-tcp-address=127.0.0.1:${lookupdTcp}`,
    "--broadcast-address=127.0.0.1",
    `--data-path=${join(dir, "data")}`,
  ]);
  await waitListening(nsqdHttp!, nsqd);
  const admin = start("nsqadmin", [`--http-address=127.0.0.1:${adminHttp}`, `--lookupd-http-address=127.0.0.1:${lookupdHttp}`]);
  await waitListening(adminHttp!, admin);

  // publish, then consume with the compiled nsq_tail, which finds the nsqd through the lookupd, over snappy
  // (the native addon embedded in both programs; a body large enough for its block path)
  const large = `second ${"0123456789abcdef".repeat(256)}`;
  for (const body of ["first", large]) {
    const res = await fetch(`http://127.0.0.1:${nsqdHttp}/pub?topic=compiled`, { method: "POST", body });
    expect(res.status).toBe(200);
  }
  await eventually(async () => (await lookupProducers(lookupdHttp!, "compiled")).length === 1, "the topic in the lookupd");
  const tail = await run("nsq_tail", [
    `--lookupd-http-address=127.0.0.1:${lookupdHttp}`,
    "--topic=compiled",
    "-n",
    "2",
    "--consumer-opt=snappy,true",
  ]);
  expect(tail.code).toBe(0);
  expect(tail.stdout).toBe(`first\n${large}\n`);

  // the Swagger UI page and the swagger-ui-dist files it loads, byte for byte
  const nsqdOrigin = `http://127.0.0.1:${nsqdHttp}`;
  const page = await get(`${nsqdOrigin}/openapi`);
  expect(page.status).toBe(200);
  const assets = linkedPaths(new TextDecoder().decode(page.body)).filter((p) => p.startsWith("/openapi/assets/"));
  expect(assets.length).toBeGreaterThanOrEqual(3);
  for (const path of assets) {
    const asset = await get(`${nsqdOrigin}${path}`);
    expect(asset.status).toBe(200);
    expect(asset.body).toEqual(new Uint8Array(readFileSync(join(ROOT, "node_modules/swagger-ui-dist", path.slice("/openapi/assets/".length)))));
  }
  const spec = (await (await fetch(`${nsqdOrigin}/openapi/json`)).json()) as { paths: Record<string, unknown> };
  expect(spec.paths["/pub"]).toBeDefined();

  // nsqadmin: its page, what the page links to, and every file in src/admin/static
  const adminOrigin = `http://127.0.0.1:${adminHttp}`;
  const index = await get(`${adminOrigin}/`);
  expect(index.status).toBe(200);
  expect(index.type).toContain("text/html");
  const linked = linkedPaths(new TextDecoder().decode(index.body));
  expect(linked).toContain("/static/app.js");
  expect(linked).toContain("/static/style.css");
  // the chart library, from node_modules/uplot
  const vendor = linked.filter((p) => p.startsWith("/vendor/"));
  expect(vendor.length).toBeGreaterThanOrEqual(2);
  for (const path of vendor) {
    const asset = await get(`${adminOrigin}${path}`);
    expect(asset.status).toBe(200);
    expect(asset.body).toEqual(new Uint8Array(readFileSync(join(ROOT, "node_modules/uplot/dist", path.slice("/vendor/".length)))));
  }
  const staticDir = join(ROOT, "src/admin/static");
  for (const name of readdirSync(staticDir)) {
    const asset = await get(`${adminOrigin}/static/${name}`);
    expect(asset.status).toBe(200);
    expect(asset.body).toEqual(new Uint8Array(readFileSync(join(staticDir, name))));
  }
  const topics = await eventually(async () => {
    const body = (await (await fetch(`${adminOrigin}/api/topics`)).json()) as { topics: string[] };
    return body.topics.includes("compiled") ? body.topics : null;
  }, "nsqadmin to list the topic");
  expect(topics).toEqual(["compiled"]);

  for (const proc of [admin, nsqd, lookupd]) {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }
}, 60_000);
