import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";

const LOCK_EX = 2;
const LOCK_NB = 4;

let flock: ((fd: number, op: number) => number) | null = null;
function libcFlock(): (fd: number, op: number) => number {
  if (flock === null) {
    const lib = dlopen("libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    flock = lib.symbols.flock;
  }
  return flock;
}

/**
 * An exclusive flock(2) on `<dataPath>/.lock`, held while the process lives (the
 * kernel drops it when the process dies, even by kill -9), so two nsqds cannot
 * share a data path.
 */
export class DataLock {
  private constructor(private fd: number) {}

  static acquire(dataPath: string): DataLock {
    const path = join(dataPath, ".lock");
    const fd = openSync(path, "a");
    if (libcFlock()(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      throw new Error(`data path ${dataPath} is in use by another nsqd (cannot lock ${path})`);
    }
    return new DataLock(fd);
  }

  release(): void {
    if (this.fd < 0) return;
    closeSync(this.fd); // closing the descriptor releases the lock
    this.fd = -1;
  }
}
