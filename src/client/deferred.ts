/** Portable stand-ins for runtime APIs the client needs on both Bun and Node 18+. */

/** A promise with its settle functions (like `Promise.withResolvers`, which Node < 22 lacks). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The handle setTimeout / setInterval return on this runtime (Bun's Timer, Node's Timeout). */
export type TimerHandle = ReturnType<typeof setTimeout>;
