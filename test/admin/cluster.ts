/**
 * A real cluster on loopback for nsqadmin's tests: one nsqlookupd, two nsqds
 * registered with it, a notification sink and nsqadmin, all in this process.
 */
import type { Server } from "bun";
import type { NSQAdmin } from "../../src/admin/nsqadmin.ts";
import type { AdminAction } from "../../src/admin/notify.ts";
import { parseAdminOptions } from "../../src/admin/options.ts";
import { startNsqadmin } from "../../src/cli/nsqadmin.ts";
import type { NsqdDaemon } from "../../src/nsqd/daemon.ts";
import { Logger } from "../../src/common/logger.ts";
import type { NSQLookupd } from "../../src/lookupd/nsqlookupd.ts";
import { eventually, startTestLookupd } from "../helpers/lookupd.ts";
import { startTestNsqd } from "../helpers/nsqd.ts";

const quiet = new Logger({ level: process.env.BUNSQ_TEST_LOG ? "debug" : "fatal", prefix: "[nsqadmin] " });

/** What nsqadmin POSTs to --notification-http-endpoint. */
export type Notification = AdminAction;

export interface TestCluster {
  lookupd: NSQLookupd;
  nsqds: NsqdDaemon[];
  admin: NSQAdmin;
  notifications: Notification[];
  /** http://127.0.0.1:<nsqadmin port> */
  origin: string;
  startAdmin(overrides: Record<string, unknown>): NSQAdmin;
  stop(): void;
}

/** nsqdOptions: more options for both nsqds (e.g. a small memQueueSize). */
export async function startCluster(nsqdOptions: Record<string, unknown> = {}): Promise<TestCluster> {
  const lookupd = startTestLookupd();
  const nsqds = [0, 1].map(() =>
    startTestNsqd({
      lookupdTcpAddresses: [`127.0.0.1:${lookupd.tcpPort}`],
      broadcastAddress: "127.0.0.1",
      ...nsqdOptions,
    }),
  );
  const notifications: Notification[] = [];
  const sink: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      notifications.push((await req.json()) as Notification);
      return new Response("ok");
    },
  });
  const admins: NSQAdmin[] = [];
  const startAdmin = (overrides: Record<string, unknown>) => {
    const admin = startNsqadmin(parseAdminOptions({ httpAddress: "127.0.0.1:0", ...overrides }), quiet);
    admins.push(admin);
    return admin;
  };
  const admin = startAdmin({
    lookupdHttpAddresses: [`127.0.0.1:${lookupd.httpPort}`],
    notificationHttpEndpoint: `http://127.0.0.1:${sink.port}/notify`,
  });
  await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}/nodes`);
    return ((await res.json()) as { producers: unknown[] }).producers.length === 2;
  }, "both nsqds to register");
  return {
    lookupd,
    nsqds,
    admin,
    notifications,
    origin: `http://127.0.0.1:${admin.httpPort}`,
    startAdmin,
    stop() {
      for (const a of admins) a.stop();
      for (const n of nsqds) n.stop();
      lookupd.stop();
      void sink.stop(true);
    },
  };
}

/** Publishes `count` messages to the topic on one nsqd through its HTTP API. */
export async function publish(nsqd: NsqdDaemon, topic: string, count: number): Promise<void> {
  const body = Array.from({ length: count }, (_, i) => `message ${i}`).join("\n");
  const res = await fetch(`http://127.0.0.1:${nsqd.httpPort}/mpub?topic=${topic}`, { method: "POST", body });
  if (res.status !== 200) throw new Error(`mpub failed: ${res.status} ${await res.text()}`);
}

export async function api(origin: string, path: string, method = "GET", body?: unknown, headers?: Record<string, string>) {
  const res = await fetch(`${origin}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** nsqd's own /stats for one topic, to check what an action did. */
export async function nsqdTopic(nsqd: NsqdDaemon, topic: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${nsqd.httpPort}/stats?format=json&topic=${topic}`);
  return (((await res.json()) as { topics: any[] | null }).topics ?? [])[0];
}

/**
 * Stands in for Go's nsqd 1.3 (none is installed here): its /info and /stats
 * JSON for one topic with one channel, without bunsq's rates, and its 404
 * {"message":"NOT_FOUND"} for any other route, /stats/history included.
 */
export function startGoNsqd(topic: string, channel: string, messages: number): Server<undefined> {
  const latency = { count: 0, percentiles: null };
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/info") {
        return Response.json({
          version: "1.3.0",
          broadcast_address: "127.0.0.1",
          hostname: "go-nsqd",
          http_port: server.port,
          tcp_port: 1,
          start_time: Math.floor(Date.now() / 1000),
        });
      }
      if (path === "/stats") {
        return Response.json({
          version: "1.3.0",
          health: "OK",
          start_time: Math.floor(Date.now() / 1000),
          topics: [
            {
              topic_name: topic,
              channels: [
                {
                  channel_name: channel,
                  depth: messages,
                  backend_depth: 0,
                  in_flight_count: 0,
                  deferred_count: 0,
                  message_count: messages,
                  requeue_count: 0,
                  timeout_count: 0,
                  client_count: 0,
                  clients: [],
                  paused: false,
                  e2e_processing_latency: latency,
                },
              ],
              depth: 0,
              backend_depth: 0,
              message_count: messages,
              message_bytes: messages * 10,
              paused: false,
              e2e_processing_latency: latency,
            },
          ],
          producers: [],
        });
      }
      return Response.json({ message: "NOT_FOUND" }, { status: 404 });
    },
  });
  return server;
}
