/**
 * Summarises nsqd CPU profiles (`bun --cpu-prof`, Chrome's .cpuprofile format) by
 * phase: the suite marks when each phase ran (wall clock), and only the samples
 * taken inside a phase count towards it. Self time is per function, summed over
 * every profile that has the phase.
 */
import { basename } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds since the epoch in Bun's profiles. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  file: string;
  phase: string;
  fromUs: number;
  toUs: number;
}

/** Wall-clock time in microseconds, on the same scale as the profiles' timestamps. */
export function epochUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

function frameName(f: CallFrame): string {
  const where = f.url === "" ? "" : ` ${basename(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName || "(anonymous)"}${where}`;
}

/** Node id → name; a native function (no url, e.g. socket write) also names its caller. */
function nodeNames(profile: CpuProfile): Map<number, string> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const names = new Map<number, string>();
  for (const [id, n] of byId) {
    const caller = parent.get(id);
    const native = n.callFrame.url === "" && caller !== undefined && caller.callFrame.url !== "";
    names.set(id, native ? `${frameName(n.callFrame)} ← ${frameName(caller.callFrame)}` : frameName(n.callFrame));
  }
  return names;
}

export class PhaseProfiles {
  private readonly windows: Window[] = [];

  /** Records that `phase` ran between fromUs and toUs (epochUs) in the nsqd writing `file`. */
  mark(file: string | null, phase: string, fromUs: number, toUs: number): void {
    if (file !== null) this.windows.push({ file, phase, fromUs, toUs });
  }

  get empty(): boolean {
    return this.windows.length === 0;
  }

  /** Top `top` functions by self time for each phase, as text. */
  async summary(top = Number(process.env.BUNSQ_PROFILE_TOP ?? 15)): Promise<string> {
    const byPhase = new Map<string, Map<string, number>>();
    const totals = new Map<string, number>();
    const spans = new Map<string, number>();
    const cache = new Map<string, CpuProfile>();
    for (const w of this.windows) {
      let profile = cache.get(w.file);
      if (profile === undefined) {
        profile = (await Bun.file(w.file).json()) as CpuProfile;
        cache.set(w.file, profile);
      }
      const names = nodeNames(profile);
      const counts = byPhase.get(w.phase) ?? new Map<string, number>();
      byPhase.set(w.phase, counts);
      let t = profile.startTime;
      let inWindow = 0;
      for (let i = 0; i < profile.samples.length; i++) {
        t += profile.timeDeltas[i];
        if (t < w.fromUs || t > w.toUs) continue;
        const name = names.get(profile.samples[i]) ?? "?";
        counts.set(name, (counts.get(name) ?? 0) + 1);
        inWindow++;
      }
      totals.set(w.phase, (totals.get(w.phase) ?? 0) + inWindow);
      spans.set(w.phase, (spans.get(w.phase) ?? 0) + (w.toUs - w.fromUs) / 1000);
    }
    const out: string[] = [];
    for (const [phase, counts] of byPhase) {
      const total = totals.get(phase) ?? 0;
      // at the default 1 ms interval; JSC samples only while JavaScript (or a host call) runs
      const share = ((total / (spans.get(phase) ?? 1)) * 100).toFixed(0);
      out.push(`${phase}: ${total} samples, JS on the stack ~${share}% of the phase's wall time`);
      const ranked = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
      for (const [name, n] of ranked) out.push(`  ${((n / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    }
    return out.join("\n");
  }
}
