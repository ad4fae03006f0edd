/**
 * The layer guard: every import in src/ (type-only ones included) must point to a
 * folder its own folder may import, as docs/layers.json says; and only the nsqd
 * program may load the broker. A failure lists each offending file and import.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { ARCHITECTURE_MD, readLayerTable, withLayersSection } from "../../scripts/layers-doc.ts";

const SRC = join(import.meta.dir, "../../src");
const table = readLayerTable();
const allowed = new Map(table.layers.map((l) => [l.folder, new Set(l.imports)]));

interface Import {
  file: string;
  line: number;
  specifier: string;
  /** The src/ folder it points into, or null for a package or a file outside src/. */
  target: string | null;
}

/** src/-relative paths of the TypeScript files under src/. */
function sourceFiles(): string[] {
  return (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).sort();
}

const folderOf = (file: string): string => (file.includes("/") ? file.slice(0, file.indexOf("/")) : "");

/** Every import and re-export of a file, as TypeScript's scanner sees them (comments and strings ignored). */
function importsOf(file: string): Import[] {
  const code = readFileSync(join(SRC, file), "utf8");
  return ts.preProcessFile(code, true, true).importedFiles.map((ref) => {
    const line = code.slice(0, ref.pos).split("\n").length;
    if (!ref.fileName.startsWith(".")) return { file, line, specifier: ref.fileName, target: null };
    const path = relative(SRC, resolve(SRC, dirname(file), ref.fileName));
    return { file, line, specifier: ref.fileName, target: path.startsWith("..") ? null : folderOf(path) };
  });
}

const files = sourceFiles();
const imports = files.flatMap(importsOf);

describe("layers", () => {
  test("the table lists each folder once, and each imports only folders listed before it", () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const layer of table.layers) {
      if (seen.has(layer.folder)) problems.push(`${layer.folder} is listed twice`);
      for (const below of layer.imports) if (!seen.has(below)) problems.push(`${layer.folder} may import ${below}, which is not below it`);
      seen.add(layer.folder);
    }
    expect(problems).toEqual([]);
  });

  test("every file of src/ is in a folder the table lists, and every listed folder exists", () => {
    const folders = new Set(files.map(folderOf));
    const unlisted = files.filter((f) => !allowed.has(folderOf(f)));
    expect(unlisted).toEqual([]);
    expect(table.layers.map((l) => l.folder).filter((f) => !folders.has(f))).toEqual([]);
  });

  test("no import points up or sideways", () => {
    const violations = imports
      .filter((i) => i.target !== null && i.target !== folderOf(i.file))
      .filter((i) => !allowed.get(folderOf(i.file))?.has(i.target!))
      .map((i) => `src/${i.file}:${i.line} imports "${i.specifier}" (${folderOf(i.file)} may not import ${i.target})`);
    expect(violations).toEqual([]);
  });

  test("only the nsqd program loads the broker", () => {
    const broker = new Set(table.broker.folders);
    const transpiler = new Bun.Transpiler({ loader: "ts" });
    /** The src/ files a module loads when it runs: value imports only, followed transitively. */
    const loads = (entry: string): string[] => {
      const seen = new Set<string>();
      const todo = [entry];
      while (todo.length > 0) {
        const file = todo.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const code = readFileSync(join(SRC, file), "utf8").replace(/^#!.*/, "");
        for (const i of transpiler.scanImports(code)) {
          if (i.path.startsWith(".")) todo.push(relative(SRC, resolve(SRC, dirname(file), i.path)));
        }
      }
      return [...seen];
    };
    const programs = files.filter((f) => folderOf(f) === "cli" && f !== `cli/${table.broker.program}`);
    const loaded = programs.flatMap((p) => loads(p).filter((f) => broker.has(folderOf(f))).map((f) => `src/${p} loads src/${f}`));
    expect(loaded).toEqual([]);
    // the check finds what it looks for: the nsqd program does load the broker
    expect(loads(`cli/${table.broker.program}`).some((f) => folderOf(f) === "core")).toBe(true);
  });

  test("docs/architecture.md shows the table as it is", () => {
    const doc = readFileSync(ARCHITECTURE_MD, "utf8");
    expect(doc, "run `bun scripts/layers-doc.ts`").toBe(withLayersSection(doc, table));
  });
});
