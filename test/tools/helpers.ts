/** Runs bunsq's tools as child processes, the way a user runs them. */
import type { Subprocess } from "bun";

const CLI = `${import.meta.dir}/../../src/cli`;

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; `stdin` is piped in when given. */
export async function runTool(name: string, args: string[], stdin?: string | Blob, timeoutMs = 10_000): Promise<ToolRun> {
  const proc = Bun.spawn(["bun", `${CLI}/${name}.ts`, ...args], {
    stdin: stdin === undefined ? "ignore" : typeof stdin === "string" ? new Blob([stdin]) : stdin,
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface RunningTool {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** SIGTERM, then the exit code and output. */
  stop(): Promise<ToolRun>;
}

/** Starts a long-running tool (nsq_to_file, nsq_to_http, nsq_to_nsq); stop() ends it. */
export function startTool(name: string, args: string[]): RunningTool {
  const proc = Bun.spawn(["bun", `${CLI}/${name}.ts`, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  return {
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return { code, stdout: await stdout, stderr: await stderr };
    },
  };
}
