/**
 * nsq_to_nsq's JSON options, with NSQ's meaning: --require-json-field passes
 * only JSON objects that have the field (and, with --require-json-value, whose
 * field has that value: equal strings, or equal numbers when the value reads as
 * one), and --whitelist-json-field trims each message to the listed fields.
 */
import { parseGoFloat } from "../options/flags.ts";

export interface JsonFilterOptions {
  requireJsonField: string;
  requireJsonValue: string;
  whitelistJsonFields: readonly string[];
}

/** What to do with a message: relay `body`, or drop it (FIN without relaying). */
export type FilterResult = { relay: Uint8Array } | { drop: string | null };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Go's encoding/json escapes these in strings; so does the re-encoded message.
const GO_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

export class JsonFilter {
  private readonly requiredNumber: number | null;
  /** Go writes a map's keys sorted. */
  private readonly keep: readonly string[];

  constructor(private readonly o: JsonFilterOptions) {
    this.keep = [...o.whitelistJsonFields].sort();
    let n: number | null = null;
    try {
      n = parseGoFloat(o.requireJsonValue);
    } catch {
      // a value that is not a number only matches strings
    }
    this.requiredNumber = n;
  }

  /** False when no JSON option is given: messages pass untouched without being parsed. */
  get active(): boolean {
    return this.o.requireJsonField !== "" || this.o.whitelistJsonFields.length > 0;
  }

  /**
   * Throws, so that the message is requeued, when the required field is missing
   * and a value is required, or when fields are to be kept from JSON that is not
   * an object (as NSQ does). A body that is not JSON is dropped with a reason to log.
   */
  apply(body: Uint8Array): FilterResult {
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(body));
    } catch {
      return { drop: `Unable to decode json: ${decoder.decode(body)}` };
    }
    const object = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
    if (!this.passes(object)) return { drop: null };
    if (this.keep.length === 0) return { relay: body };
    if (object === null) throw new Error("json is not an object");
    const kept: Record<string, unknown> = {};
    for (const key of this.keep) {
      if (Object.hasOwn(object, key)) kept[key] = object[key];
    }
    return { relay: encoder.encode(JSON.stringify(kept).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!)) };
  }

  private passes(object: Record<string, unknown> | null): boolean {
    const { requireJsonField: field, requireJsonValue: wanted } = this.o;
    if (field === "") return true;
    if (object === null || !Object.hasOwn(object, field)) {
      if (wanted !== "") throw new Error("missing field to check required value");
      return false;
    }
    if (wanted === "") return true;
    const value = object[field];
    if (typeof value === "string") return value === wanted;
    return typeof value === "number" && value === this.requiredNumber;
  }
}
