/** The suite's rows (what each figure is, its target and Go nsqd's figure) and its tables. */

export interface RowSpec {
  key: string;
  label: string;
  unit: string;
  digits: number;
  target?: { text: string; met: (v: number) => boolean };
  /** Go nsqd v1.3 on the same kind of machine (design.md, Performance budget). */
  go?: string;
}

const atLeast = (n: number, text: string) => ({ text, met: (v: number) => v >= n });
const below = (n: number, text: string) => ({ text, met: (v: number) => v < n });

function throughputRows(kind: string, label: string, target: RowSpec["target"], goIn: string, goOut: string): RowSpec[] {
  return [
    { key: `${kind}.in`, label: `${label}: publish, MPUB 200 × 200 B, 2 conns`, unit: "msgs/s", digits: 0, target, go: goIn },
    { key: `${kind}.out`, label: `${label}: consume, RDY 2500, 2 conns`, unit: "msgs/s", digits: 0, target, go: goOut },
    { key: `${kind}.client-cpu.in`, label: `${label}: bench client CPU, publish`, unit: "% core", digits: 0 },
    { key: `${kind}.client-cpu.out`, label: `${label}: bench client CPU, consume`, unit: "% core", digits: 0 },
    { key: `${kind}.nsqd-cpu.in`, label: `${label}: nsqd CPU, publish`, unit: "% core", digits: 0 },
    { key: `${kind}.nsqd-cpu.out`, label: `${label}: nsqd CPU, consume`, unit: "% core", digits: 0 },
    { key: `${kind}.per-cpu.in`, label: `${label}: publish per nsqd CPU-second`, unit: "msgs", digits: 0 },
    { key: `${kind}.per-cpu.out`, label: `${label}: consume per nsqd CPU-second`, unit: "msgs", digits: 0 },
  ];
}

function latencyRows(k: string, rate: string, p99: number): RowSpec[] {
  const key = `latency.${k}`;
  return [
    { key: `${key}.p50`, label: `latency at ${rate} msgs/s: p50`, unit: "ms", digits: 3 },
    { key: `${key}.p99`, label: `latency at ${rate} msgs/s: p99`, unit: "ms", digits: 3, target: below(p99, `< ${p99} ms`) },
    { key: `${key}.p999`, label: `latency at ${rate} msgs/s: p99.9`, unit: "ms", digits: 3 },
    { key: `${key}.rate`, label: `latency at ${rate} msgs/s: rate reached`, unit: "msgs/s", digits: 0 },
    { key: `${key}.lag`, label: `latency at ${rate} msgs/s: producer's worst lag`, unit: "ms", digits: 1 },
    { key: `${key}.client-cpu`, label: `latency at ${rate} msgs/s: bench client CPU`, unit: "% core", digits: 0 },
  ];
}

export const ROWS: RowSpec[] = [
  ...throughputRows("memory", "memory path", atLeast(1_000_000, "≥ 1,000,000"), "470k–650k", "450k–550k"),
  ...throughputRows("disk", "disk path (--mem-queue-size=0)", atLeast(330_000, "≥ 330,000"), "~330k", "~190k"),
  ...[1, 4, 16].map((p) => ({
    key: `sync.${p}`,
    label: `--sync-every=1: acked PUB/s, ${p} sync publisher${p > 1 ? "s" : ""}`,
    unit: "msgs/s",
    digits: 0,
  })),
  ...latencyRows("20k", "20,000", 1),
  ...latencyRows("100k", "100,000", 1.5),
  { key: "mem.per-message", label: "memory per queued 200 B message, beyond its body", unit: "B", digits: 1, target: below(100.0001, "≤ 100 B"), go: "~130 B" },
  { key: "mem.per-connection", label: "memory per idle connection (10,000 open)", unit: "KiB", digits: 2, target: below(8.0001, "≤ 8 KiB"), go: "~32 KiB" },
  { key: "mem.per-idle-topic", label: "memory per idle topic with one channel (10,000 created)", unit: "KiB", digits: 2, target: below(8.0001, "≤ 8 KiB"), go: "~232 KiB" },
  { key: "mem.after-topic-delete", label: "RSS left above the start once those 10,000 are deleted", unit: "MiB", digits: 1 },
  { key: "files.idle-topics", label: "files those 10,000 idle topics leave in the data path", unit: "files", digits: 0, target: below(0.5, "0") },
];

export interface Summary {
  row: RowSpec;
  values: number[];
  median: number;
  min: number;
  max: number;
}

export function summarise(figures: Map<string, number[]>): Summary[] {
  const out: Summary[] = [];
  for (const row of ROWS) {
    const values = figures.get(row.key);
    if (values === undefined || values.length === 0) continue;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    out.push({ row, values, median, min: sorted[0], max: sorted[sorted.length - 1] });
  }
  return out;
}

function fmt(v: number, digits: number): string {
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const HEADER = ["measurement", "unit", "target", "median", "min", "max", "runs", "Go nsqd"];

function cells(s: Summary): string[] {
  const r = s.row;
  const met = r.target === undefined ? "" : r.target.met(s.median) ? " ✓" : " ✗";
  return [r.label, r.unit, r.target?.text ?? "", fmt(s.median, r.digits) + met, fmt(s.min, r.digits), fmt(s.max, r.digits), String(s.values.length), r.go ?? ""];
}

/** An aligned plain-text table. */
export function plainTable(rows: Summary[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const numeric = new Set([3, 4, 5, 6]);
  return table
    .map((r) => r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd())
    .join("\n");
}

export function markdownTable(rows: Summary[]): string {
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(HEADER), line(HEADER.map(() => "---")), ...rows.map((s) => line(cells(s)))].join("\n");
}
