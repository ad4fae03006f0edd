#!/usr/bin/env bun
/**
 * The layer table of docs/layers.json as markdown, and the section of
 * docs/architecture.md between the layers markers rewritten with it:
 *
 *   bun scripts/layers-doc.ts
 *
 * test/unit/layers.test.ts fails while that section differs from the table.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Layer {
  folder: string;
  job: string;
  imports: string[];
}

export interface LayerTable {
  about: string;
  layers: Layer[];
  broker: { about: string; folders: string[]; program: string };
}

const ROOT = join(import.meta.dir, "..");
export const LAYERS_JSON = join(ROOT, "docs/layers.json");
export const ARCHITECTURE_MD = join(ROOT, "docs/architecture.md");
export const BEGIN = "<!-- layers:begin (generated from docs/layers.json by `bun scripts/layers-doc.ts`) -->";
export const END = "<!-- layers:end -->";

export function readLayerTable(): LayerTable {
  return JSON.parse(readFileSync(LAYERS_JSON, "utf8")) as LayerTable;
}

/** The table, top layer first as a reader looks down the stack. */
export function layersMarkdown(table: LayerTable): string {
  const rows = table.layers
    .map((l, i) => {
      const imports = l.imports.length === 0 ? "nothing of ours" : l.imports.join(", ");
      return `| ${i + 1} | \`src/${l.folder}/\` | ${l.job} | ${imports} |`;
    })
    .reverse();
  return [
    "| Layer | Folder | Its job | May import |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `${table.broker.about} The broker's folders: ${table.broker.folders.map((f) => `\`src/${f}/\``).join(", ")}.`,
  ].join("\n");
}

/** `doc` with the text between the markers replaced by the table. */
export function withLayersSection(doc: string, table: LayerTable): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/architecture.md lacks the markers ${BEGIN} ... ${END}`);
  return `${doc.slice(0, begin + BEGIN.length)}\n${layersMarkdown(table)}\n${doc.slice(end)}`;
}

if (import.meta.main) {
  const doc = readFileSync(ARCHITECTURE_MD, "utf8");
  writeFileSync(ARCHITECTURE_MD, withLayersSection(doc, readLayerTable()));
}
