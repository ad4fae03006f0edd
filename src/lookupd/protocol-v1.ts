/**
 * One nsqd's connection to nsqlookupd (lookup protocol V1): the magic "  V1", then
 * IDENTIFY, REGISTER, UNREGISTER and PING lines. Every error is fatal, as in NSQ:
 * the error text is sent as a response and the connection is closed.
 */
import { z } from "zod";
import type { Logger } from "../common/logger.ts";
import { CommandParser, type CommandHandler, type CommandLine } from "../protocol/command-parser.ts";
import { MAGIC_V1 } from "../protocol/frames.ts";
import { isEphemeralName, isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { PeerInfo, RegistrationDB } from "./registration-db.ts";

/** What nsqlookupd answers to IDENTIFY. */
export interface LookupdIdentity {
  broadcastAddress: string;
  hostname: string;
  httpPort: number;
  tcpPort: number;
  version: string;
}

export interface LookupContext {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  identity(): LookupdIdentity;
}

export interface V1Connection {
  send(data: string | Uint8Array): void;
  /** Closes after what was sent has been written. */
  end(): void;
}

// NSQ reads the body whatever its size; bunsq refuses absurd ones instead.
const MAX_IDENTIFY_BODY = 1 << 20;

class LookupError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`${code} ${description}`);
  }
}

// Go's json.Unmarshal into PeerInfo: unknown keys ignored, wrong types refused.
const port = z.number().int().min(-2147483648).max(2147483647);
const identifyBody = z
  .object({
    broadcast_address: z.string().optional(),
    hostname: z.string().optional(),
    tcp_port: port.optional(),
    http_port: port.optional(),
    version: z.string().optional(),
  })
  .nullable();

const decoder = new TextDecoder("utf-8");

export class LookupClientV1 implements CommandHandler {
  private readonly parser = new CommandParser(this);
  peer: PeerInfo | null = null;

  constructor(
    private readonly ctx: LookupContext,
    private readonly conn: V1Connection,
    /** "ip:port" of the remote end; the peer's id. */
    readonly remoteAddress: string,
  ) {}

  toString(): string {
    return this.remoteAddress;
  }

  onData(chunk: Uint8Array): void {
    this.parser.feed(chunk);
  }

  /** The connection closed: the peer's registrations go with it. */
  onClose(): void {
    this.parser.stop();
    this.ctx.logger.info(`CLIENT(${this}): closing`);
    if (this.peer === null) return;
    const gone = this.ctx.db.removePeer(this.peer.id);
    const log = this.ctx.logger;
    if (gone.client) log.info(`DB: client(${this}) UNREGISTER category:client key: subkey:`);
    for (const topic of gone.topics) log.info(`DB: client(${this}) UNREGISTER category:topic key:${topic} subkey:`);
    for (const [topic, channel] of gone.channels) {
      log.info(`DB: client(${this}) UNREGISTER category:channel key:${topic} subkey:${channel}`);
    }
  }

  // ---- CommandHandler ----

  magic(bytes: Uint8Array): boolean {
    const text = String.fromCharCode(...bytes);
    if (text === MAGIC_V1) return true;
    this.ctx.logger.error(`client(${this}) bad protocol magic '${text}'`);
    this.conn.send("E_BAD_PROTOCOL");
    this.conn.end();
    return false;
  }

  line(line: CommandLine): boolean {
    const params = line.text().trim().split(" ");
    try {
      if (params[0] === "IDENTIFY") {
        if (this.peer !== null) throw new LookupError("E_INVALID", "cannot IDENTIFY again");
        return true;
      }
      this.conn.send(this.exec(params));
    } catch (err) {
      this.fail(err);
    }
    return false;
  }

  bodySize(size: number): void {
    if (size < 0 || size > MAX_IDENTIFY_BODY) {
      this.fail(new LookupError("E_BAD_BODY", "IDENTIFY failed to read body size"));
    } else if (size === 0) {
      this.body(new Uint8Array(0));
    }
  }

  body(bytes: Uint8Array): void {
    try {
      this.conn.send(this.identify(bytes));
    } catch (err) {
      this.fail(err);
    }
  }

  lineTooLong(limit: number): void {
    this.fail(new LookupError("E_INVALID", `command line longer than ${limit} bytes`));
  }

  // ---- commands ----

  private exec(params: string[]): string {
    switch (params[0]) {
      case "PING":
        return this.ping();
      case "REGISTER":
        return this.register(params.slice(1));
      case "UNREGISTER":
        return this.unregister(params.slice(1));
    }
    throw new LookupError("E_INVALID", `invalid command ${params[0]}`);
  }

  private ping(): string {
    if (this.peer !== null) {
      const now = Date.now();
      this.ctx.logger.debug(`CLIENT(${this}): pinged (last ping ${now - this.peer.lastUpdate}ms)`);
      this.peer.lastUpdate = now;
    }
    return "OK";
  }

  private identified(): PeerInfo {
    if (this.peer === null) throw new LookupError("E_INVALID", "client must IDENTIFY");
    return this.peer;
  }

  private register(params: string[]): string {
    const peer = this.identified();
    const [topic, channel] = topicChannel("REGISTER", params);
    const { db, logger } = this.ctx;
    if (channel !== "" && db.addChannelProducer(topic, channel, peer)) {
      logger.info(`DB: client(${this}) REGISTER category:channel key:${topic} subkey:${channel}`);
    }
    if (db.addTopicProducer(topic, peer)) {
      logger.info(`DB: client(${this}) REGISTER category:topic key:${topic} subkey:`);
    }
    return "OK";
  }

  private unregister(params: string[]): string {
    const peer = this.identified();
    const [topic, channel] = topicChannel("UNREGISTER", params);
    const { db, logger } = this.ctx;
    if (channel !== "") {
      const { removed, left } = db.removeChannelProducer(topic, channel, peer.id);
      if (removed) logger.info(`DB: client(${this}) UNREGISTER category:channel key:${topic} subkey:${channel}`);
      if (left === 0 && isEphemeralName(channel)) db.removeChannel(topic, channel);
      return "OK";
    }
    // a topic's channels normally go before the topic: anything left here is unexpected
    for (const name of db.removePeerFromChannels(topic, peer.id)) {
      logger.warn(`client(${this}) unexpected UNREGISTER category:channel key:${topic} subkey:${name}`);
    }
    const { removed, left } = db.removeTopicProducer(topic, peer.id);
    if (removed) logger.info(`DB: client(${this}) UNREGISTER category:topic key:${topic} subkey:`);
    if (left === 0 && isEphemeralName(topic)) db.removeTopic(topic);
    return "OK";
  }

  private identify(body: Uint8Array): string {
    let parsed;
    try {
      parsed = identifyBody.parse(JSON.parse(decoder.decode(body)));
    } catch {
      throw new LookupError("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
    }
    const peer: PeerInfo = {
      id: this.remoteAddress,
      remoteAddress: this.remoteAddress,
      hostname: parsed?.hostname ?? "",
      broadcastAddress: parsed?.broadcast_address ?? "",
      tcpPort: parsed?.tcp_port ?? 0,
      httpPort: parsed?.http_port ?? 0,
      version: parsed?.version ?? "",
      lastUpdate: Date.now(),
    };
    if (peer.broadcastAddress === "" || peer.tcpPort === 0 || peer.httpPort === 0 || peer.version === "") {
      throw new LookupError("E_BAD_BODY", "IDENTIFY missing fields");
    }
    const { db, logger } = this.ctx;
    logger.info(
      `CLIENT(${this}): IDENTIFY Address:${peer.broadcastAddress} TCP:${peer.tcpPort} HTTP:${peer.httpPort} Version:${peer.version}`,
    );
    this.peer = peer;
    if (db.addClient(peer)) logger.info(`DB: client(${this}) REGISTER category:client key: subkey:`);
    const me = this.ctx.identity();
    // the key order of Go's encoding of a map: sorted
    return JSON.stringify({
      broadcast_address: me.broadcastAddress,
      hostname: me.hostname,
      http_port: me.httpPort,
      tcp_port: me.tcpPort,
      version: me.version,
    });
  }

  private fail(err: unknown): void {
    const e = err instanceof LookupError ? err : new LookupError("E_INVALID", String(err));
    this.ctx.logger.error(`[${this}] - ${e.message}`);
    this.conn.send(e.message);
    this.parser.stop();
    this.conn.end();
  }
}

function topicChannel(command: string, params: string[]): [string, string] {
  if (params.length === 0) throw new LookupError("E_INVALID", `${command} insufficient number of params`);
  const topic = params[0];
  const channel = params[1] ?? "";
  if (!isValidTopicName(topic)) throw new LookupError("E_BAD_TOPIC", `${command} topic name '${topic}' is not valid`);
  if (channel !== "" && !isValidChannelName(channel)) {
    throw new LookupError("E_BAD_CHANNEL", `${command} channel name '${channel}' is not valid`);
  }
  return [topic, channel];
}
