/** The result line of NSQ's bench_writer / bench_reader, so figures can be set side by side. */

/** Go's time.Duration.String() for durations of a second or more (and ms below). */
export function goDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(9).replace(/\.?0+$/, "")}s`;
  return `${ms.toFixed(6).replace(/\.?0+$/, "")}ms`;
}

function goLogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "[prefix] 2006/01/02 15:04:05 text", like Go's log with LstdFlags. */
export function logLine(prefix: string, text: string): string {
  return `${prefix}${goLogTime(new Date())} ${text}`;
}

/** "duration: 10.0012s - 90.123mb/s - 472512.123ops/s - 2.116us/op" */
export function resultText(ms: number, messages: number, size: number): string {
  const secs = ms / 1000;
  const usPerOp = Math.floor(ms * 1000) / messages;
  return `duration: ${goDuration(ms)} - ${((messages * size) / secs / 1024 / 1024).toFixed(3)}mb/s - ${(messages / secs).toFixed(3)}ops/s - ${usPerOp.toFixed(3)}us/op`;
}

/** CPU time this process used since `start` (process.cpuUsage), as a share of the wall time. */
export function cpuText(start: NodeJS.CpuUsage, wallMs: number): string {
  const used = process.cpuUsage(start);
  const cpuMs = (used.user + used.system) / 1000;
  return `cpu: ${(cpuMs / 1000).toFixed(3)}s (${((cpuMs / wallMs) * 100).toFixed(1)}% of one core)`;
}
