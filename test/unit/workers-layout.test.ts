/** src/workers/layout.ts: node ids per worker, and the data path checks of --workers. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseNsqdOptions } from "../../src/core/options.ts";
import { WORKERS_FILE, checkDataLayout, workerNodeId, workerOfNode, workerOptions } from "../../src/workers/layout.ts";
import { removeDir, tempDataDir } from "../helpers/process.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
function dir(): string {
  const d = tempDataDir();
  dirs.push(d);
  return d;
}

describe("node ids", () => {
  test("worker i has --node-id + i, wrapping at 1024, and the id names its worker", () => {
    expect(workerNodeId(1022, 0)).toBe(1022);
    expect(workerNodeId(1022, 3)).toBe(1);
    for (let i = 0; i < 4; i++) expect(workerOfNode(1022, 4, workerNodeId(1022, i))).toBe(i);
    expect(workerOfNode(1022, 4, 2)).toBe(-1);
    expect(workerOfNode(5, 2, 4)).toBe(-1);
  });

  test("a worker's options: own data path, node id, private ports on the shared host", () => {
    const o = workerOptions(
      parseNsqdOptions({ dataPath: "/d", nodeId: 7, tcpAddress: "10.0.0.1:4150", httpAddress: "0.0.0.0:4151", workers: 2 }),
      1,
    );
    expect(o.dataPath).toBe(join("/d", "worker-1"));
    expect(o.nodeId).toBe(8);
    expect(o.tcpAddress).toBe("10.0.0.1:0");
    expect(o.httpAddress).toBe("0.0.0.0:0");
    expect(o.logPrefix).toBe("[nsqd/1] ");
  });
});

describe("checkDataLayout", () => {
  test("records N, accepts it again, refuses another N", () => {
    const d = dir();
    checkDataLayout(parseNsqdOptions({ dataPath: d, workers: 3 }));
    expect(readFileSync(join(d, WORKERS_FILE), "utf8").trim()).toBe("3");
    checkDataLayout(parseNsqdOptions({ dataPath: d, workers: 3 }));
    expect(() => checkDataLayout(parseNsqdOptions({ dataPath: d, workers: 2 }))).toThrow("was used with --workers=3");
    expect(() => checkDataLayout(parseNsqdOptions({ dataPath: d }))).toThrow("was used with --workers=3");
  });

  test("a single nsqd's data is not hidden under workers; a single nsqd records nothing", () => {
    const d = dir();
    checkDataLayout(parseNsqdOptions({ dataPath: d }));
    expect(existsSync(join(d, WORKERS_FILE))).toBe(false);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "t.diskqueue.000000.dat"), "");
    expect(() => checkDataLayout(parseNsqdOptions({ dataPath: d, workers: 2 }))).toThrow("started without --workers");
  });
});
