import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

/**
 * Writes a small file atomically: a temporary file beside it, fsync, rename over
 * the old one. A crash leaves either the old or the new content, never a mix.
 */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${Math.floor(Math.random() * 1e9)}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Read and write positions of a disk queue, in go-diskqueue's text layout. */
export interface QueuePositions {
  depth: number;
  readFileNum: number;
  readPos: number;
  writeFileNum: number;
  writePos: number;
}

export function formatPositions(p: QueuePositions): string {
  return `${p.depth}\n${p.readFileNum},${p.readPos}\n${p.writeFileNum},${p.writePos}\n`;
}

/** Null when the file is missing or not in the expected layout. */
export function readPositions(path: string): QueuePositions | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const m = /^(\d+)\n(\d+),(\d+)\n(\d+),(\d+)\n?$/.exec(text);
  if (m === null) return null;
  const [depth, readFileNum, readPos, writeFileNum, writePos] = m.slice(1).map(Number);
  return { depth, readFileNum, readPos, writeFileNum, writePos };
}
