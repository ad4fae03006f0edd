// Runs every mitata micro-benchmark in bench/*.bench.ts in one report.
import { run } from "mitata";

const dir = import.meta.dir;
const files = [...new Bun.Glob("*.bench.ts").scanSync(dir)].sort();
for (const file of files) await import(`${dir}/${file}`);
await run();
