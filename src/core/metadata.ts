import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../diskqueue/metadata-file.ts";

/** nsqd.dat: which topics and channels exist and whether they are paused (nsqd's JSON layout). */
export interface NsqdMetadata {
  topics: { name: string; paused: boolean; channels: { name: string; paused: boolean }[] }[];
  version: string;
}

export const METADATA_FILE = "nsqd.dat";

/** The saved metadata, or null when there is none. Throws on a file that cannot be parsed. */
export function loadMetadata(dataPath: string): NsqdMetadata | null {
  let text: string;
  try {
    text = readFileSync(join(dataPath, METADATA_FILE), "utf8");
  } catch {
    return null;
  }
  const raw = JSON.parse(text) as Partial<NsqdMetadata>;
  const topics = Array.isArray(raw.topics) ? raw.topics : [];
  return {
    version: typeof raw.version === "string" ? raw.version : "",
    topics: topics
      .filter((t) => typeof t?.name === "string")
      .map((t) => ({
        name: t.name,
        paused: t.paused === true,
        channels: (Array.isArray(t.channels) ? t.channels : [])
          .filter((c) => typeof c?.name === "string")
          .map((c) => ({ name: c.name, paused: c.paused === true })),
      })),
  };
}

export function saveMetadata(dataPath: string, metadata: NsqdMetadata): void {
  writeFileAtomic(join(dataPath, METADATA_FILE), JSON.stringify(metadata));
}
