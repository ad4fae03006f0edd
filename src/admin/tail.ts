/**
 * Live tail (bunsq extra): nsqadmin subscribes to the topic on each of its nsqds
 * through an ephemeral channel (protocol V2), finishes every message at once and
 * streams it to the browser as Server-Sent Events. The channel disappears with
 * the last subscriber, so tailing leaves nothing behind.
 */
import type { Socket } from "bun";
import { Elysia } from "elysia";
import { HttpError } from "../http/errors.ts";
import { FrameDecoder, decodeMessageFrame } from "../protocol/frame-decoder.ts";
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, HEARTBEAT, MAGIC_V2 } from "../protocol/frames.ts";
import { isValidTopicName } from "../protocol/names.ts";
import { isAdmin } from "./access.ts";
import { Failures } from "./cluster.ts";
import type { AdminContext } from "./context.ts";
import type { Producer } from "./types.ts";

const MAX_BODY_SHOWN = 4096;
const RDY = 50;

export interface TailEvent {
  node: string;
  id: string;
  timestamp: number;
  attempts: number;
  body: string;
  size: number;
}

const utf8 = new TextDecoder();

/** One V2 subscription; calls onMessage for each message and FINs it. */
async function subscribe(
  producer: Producer,
  topic: string,
  channel: string,
  connectTimeout: number,
  onMessage: (e: TailEvent) => void,
  onError: (text: string) => void,
): Promise<Socket<undefined>> {
  const node = `${producer.broadcast_address}:${producer.http_port}`;
  let socket!: Socket<undefined>;
  const decoder = new FrameDecoder((type, data) => {
    if (type === FRAME_TYPE_MESSAGE) {
      const m = decodeMessageFrame(data);
      socket.write(`FIN ${m.id}\n`);
      onMessage({
        node,
        id: m.id,
        timestamp: Math.floor(m.timestamp / 1_000_000),
        attempts: m.attempts,
        body: utf8.decode(m.body.subarray(0, MAX_BODY_SHOWN)),
        size: m.body.length,
      });
    } else if (type === FRAME_TYPE_ERROR) {
      onError(`${node}: ${utf8.decode(data)}`);
    } else if (utf8.decode(data) === HEARTBEAT) {
      socket.write("NOP\n");
    }
  });
  const connecting = Bun.connect({
    hostname: producer.broadcast_address,
    port: producer.tcp_port,
    socket: { data: (_s, chunk) => decoder.feed(chunk), error: (_s, err) => onError(`${node}: ${err.message}`) },
  });
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${node}: connect timed out`));
      connecting.then((late) => late.end(), () => {}); // a connection that comes too late is not kept
    }, connectTimeout);
  });
  try {
    socket = await Promise.race([connecting, timeout]);
  } finally {
    clearTimeout(timer);
  }
  socket.write(`${MAGIC_V2}SUB ${topic} ${channel}\nRDY ${RDY}\n`);
  return socket;
}

export function tailRoutes(ctx: AdminContext) {
  return new Elysia().get(
    "/api/topics/:topic/tail",
    async ({ params, request }) => {
      const o = ctx.options();
      if (!isAdmin(request, o.adminUsers, o.aclHttpHeader)) throw new HttpError(403, "FORBIDDEN");
      const topic = params.topic;
      if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_TOPIC");
      const producers = await ctx.cluster.topicProducers(topic, new Failures());
      const channel = `nsqadmin_tail_${Math.random().toString(36).slice(2, 10)}#ephemeral`;
      const sockets: Socket<undefined>[] = [];
      const encoder = new TextEncoder();
      let closed = false;
      let keepAlive: Timer | undefined;
      const close = () => {
        closed = true;
        clearInterval(keepAlive);
        for (const s of sockets) s.end();
      };
      request.signal.addEventListener("abort", close);
      const stream = new ReadableStream<Uint8Array>({
        start: async (controller) => {
          // the stream can end without cancel (its client gone): then the tail stops instead of throwing in a timer
          const write = (text: string) => {
            if (closed) return;
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              close();
            }
          };
          const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
          // a comment now and then keeps the server's idle timeout from closing a quiet stream
          keepAlive = setInterval(() => write(": keep-alive\n\n"), 5000);
          send("ready", { channel, nodes: producers.map((p) => `${p.broadcast_address}:${p.http_port}`) });
          for (const p of producers) {
            try {
              const socket = await subscribe(p, topic, channel, o.httpClientConnectTimeout, (m) => send("message", m), (e) =>
                send("failure", { error: e }),
              );
              if (closed) socket.end();
              else sockets.push(socket);
            } catch (err) {
              send("failure", { error: (err as Error).message });
            }
          }
        },
        cancel: close,
      });
      return new Response(stream, {
        headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" },
      });
    },
    {
      detail: {
        summary: "bunsq: the topic's messages as Server-Sent Events, read through an ephemeral channel",
        tags: ["topics"],
      },
    },
  );
}
