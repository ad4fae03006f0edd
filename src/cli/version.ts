/**
 * The version line of every program (--version and the first log line): bunsq's
 * NSQ version and the Bun runtime, plus, in an executable built by
 * scripts/build.ts, the commit and time it was built from.
 */
import { VERSION } from "../common/version.ts";

/** What scripts/build.ts defines; absent when running from source. */
export interface BuildInfo {
  /** Short commit hash, with "-dirty" when the tree had uncommitted changes. */
  commit: string;
  /** ISO 8601 UTC time of the build. */
  date: string;
}

// Replaced by the bundler (`define`); `typeof` keeps the source run working without it.
declare const BUNSQ_BUILD: BuildInfo | undefined;

export const BUILD: BuildInfo | null = typeof BUNSQ_BUILD === "undefined" ? null : BUNSQ_BUILD;

/** "nsqd v1.3.0+bunsq (bun 1.4.5, commit 1a2b3c4, built 2026-11-22T10:00:00Z)". */
export function versionText(name: string): string {
  const build = BUILD === null ? "" : `, commit ${BUILD.commit}, built ${BUILD.date}`;
  return `${name} v${VERSION} (bun ${Bun.version}${build})`;
}
