/**
 * Messages on disk use nsqd's own layout, [8-byte timestamp][2-byte attempts]
 * [16-byte id][body], so a record is exactly a message frame's payload. The disk
 * queue stores records as bytes; this file, beside the message it encodes, is
 * the only one that knows what is in them.
 */
import type { DiskQueue } from "../diskqueue/disk-queue.ts";
import { MESSAGE_HEADER_SIZE, copyBytes, readUint64BE, writeUint64BE } from "../protocol/frames.ts";
import { parseMessageNode, parseMessageSequence, writeMessageId } from "../protocol/message-id.ts";
import { Delivery, type MessageData } from "./message.ts";

/** Appends `message` to `queue`, due at `dueMs` (ms since the epoch; 0: at once). */
export function writeMessageRecord(queue: DiskQueue, message: MessageData, attempts: number, dueMs = 0): void {
  const pos = queue.reserveRecord(MESSAGE_HEADER_SIZE + message.length, dueMs);
  const buf = queue.writeBuffer;
  writeUint64BE(buf, pos, message.timestamp);
  buf[pos + 8] = attempts >>> 8;
  buf[pos + 9] = attempts;
  writeMessageId(buf, pos + 10, message.node, message.sequence);
  copyBytes(message.source, message.offset, message.length, buf, pos + MESSAGE_HEADER_SIZE);
}

/**
 * Decodes a record into a delivery carrying its attempts; the body is copied out
 * of the queue's read buffer. An id that is not in bunsq's layout (a foreign data
 * file) gets a fresh sequence so the message can still be tracked in flight.
 */
export function readMessageRecord(payload: Uint8Array, newSequence: () => number, node: number): Delivery {
  const timestamp = readUint64BE(payload, 0);
  let sequence = parseMessageSequence(payload, 10);
  let idNode = node;
  if (sequence < 0) sequence = newSequence();
  else idNode = parseMessageNode(payload, 10);
  const body = payload.slice(MESSAGE_HEADER_SIZE);
  const d = new Delivery(sequence, idNode, timestamp, body, 0, body.length);
  d.attempts = (payload[8] << 8) | payload[9];
  return d;
}
