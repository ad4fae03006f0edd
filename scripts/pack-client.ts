#!/usr/bin/env bun
/**
 * Packs the client as the npm package "bunsq" with one entry point,
 * `bunsq/client`: the bundle built for Node (which runs on Bun too) and its .d.ts
 * types, no runtime dependencies, so installing the tarball needs no network.
 * The server and the tools are not in it.
 *
 * Snappy: the bundle carries the hand-written codec and requires the native
 * packages (`snappy`, `@node-rs/crc32`) at run time instead of bundling them (a
 * bundle would carry the build machine's binary only). They are declared as
 * optional peer dependencies: a project that installs them beside bunsq (nsqjs
 * brings them too) gets the native codec, any other runs the hand-written one.
 *
 *   bun scripts/pack-client.ts [output dir, default dist/]   # prints the tarball's path
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
/** The native snappy packages src/compress/snappy-engine.ts requires when they are installed. */
const NATIVE = ["snappy", "@node-rs/crc32"];

function run(cmd: string[], cwd = ROOT): string {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed:\n${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

export function packClient(outDir: string): string {
  const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    version: string;
    license: string;
    description: string;
    dependencies: Record<string, string>;
  };
  const deps = root.dependencies;
  const stage = mkdtempSync(join(tmpdir(), "bunsq-pack-"));
  try {
    run([process.execPath, "build", "src/client/index.ts", "--target=node", "--format=esm", ...NATIVE.map((p) => `--external=${p}`), `--outdir=${join(stage, "client")}`]);
    run([process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.client.json", "--outDir", join(stage, "types")]);
    const pkg = {
      name: "bunsq",
      version: root.version,
      description: "NSQ client (Producer, Consumer) for Node and Bun, from bunsq",
      license: root.license,
      type: "module",
      exports: {
        "./client": { types: "./types/client/index.d.ts", default: "./client/index.js" },
        "./package.json": "./package.json",
      },
      engines: { node: ">=18" },
      peerDependencies: Object.fromEntries(NATIVE.map((p) => [p, deps[p]])),
      peerDependenciesMeta: Object.fromEntries(NATIVE.map((p) => [p, { optional: true }])),
    };
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    cpSync(join(ROOT, "docs/client-and-tools.md"), join(stage, "README.md"));
    mkdirSync(outDir, { recursive: true });
    const out = JSON.parse(run(["npm", "pack", "--json", "--pack-destination", resolve(outDir)], stage)) as { filename: string }[];
    return join(resolve(outDir), out[0]!.filename);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(packClient(process.argv[2] ?? join(ROOT, "dist")));
