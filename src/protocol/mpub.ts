import { fatal } from "./errors.ts";
import { readInt32BE } from "./frames.ts";

/**
 * Splits an MPUB body ([4-byte count] then count x [4-byte size][bytes]) into
 * message spans, checking it the way nsqd does. Fills `spans` with an offset (in
 * `body`) and a length per message and returns the count; throws nsqd's
 * ClientError for a malformed body. No views are made: the topic keeps the body
 * and the spans.
 */
export function decodeMpub(
  body: Uint8Array,
  maxMsgSize: number,
  maxBodySize: number,
  spans: number[],
): number {
  if (body.length < 4) throw fatal("E_BAD_BODY", "MPUB failed to read message count");
  const count = readInt32BE(body, 0);
  // 4 bytes of count, then at least 4 bytes of size + 1 byte per message
  const maxMessages = Math.floor((maxBodySize - 4) / 5);
  if (count <= 0 || count > maxMessages) throw fatal("E_BAD_BODY", `MPUB invalid message count ${count}`);
  let pos = 4;
  for (let i = 0; i < count; i++) {
    if (body.length - pos < 4) throw fatal("E_BAD_MESSAGE", `MPUB failed to read message(${i}) body size`);
    const size = readInt32BE(body, pos);
    pos += 4;
    if (size <= 0) throw fatal("E_BAD_MESSAGE", `MPUB invalid message(${i}) body size ${size}`);
    if (size > maxMsgSize) throw fatal("E_BAD_MESSAGE", `MPUB message too big ${size} > ${maxMsgSize}`);
    if (body.length - pos < size) throw fatal("E_BAD_MESSAGE", "MPUB failed to read message body");
    spans[2 * i] = pos;
    spans[2 * i + 1] = size;
    pos += size;
  }
  if (pos !== body.length) {
    throw fatal("E_BAD_BODY", `MPUB body size ${body.length} does not match its ${count} messages (${pos} bytes)`);
  }
  return count;
}
