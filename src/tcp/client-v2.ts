import type { Socket, SocketHandler } from "bun";
import type { AuthState } from "../auth/authorizations.ts";
import type { AuthServers } from "../auth/query.ts";
import { CodecError } from "../compress/codec.ts";
import type { Channel } from "../core/channel.ts";
import type { Delivery, Subscriber } from "../core/message.ts";
import type { ClientStats } from "../schemas/nsqd-stats.ts";
import { VERSION } from "../common/version.ts";
import type { NSQD } from "../core/nsqd.ts";
import { NOT_IN_FLIGHT, Refusal } from "../core/refusal.ts";
import type { Topic } from "../core/topic.ts";
import { CommandParser, bytesToString, type CommandHandler, type CommandLine } from "../protocol/command-parser.ts";
import { ClientError, fatal, nonFatal } from "../protocol/errors.ts";
import { FRAME_OK, FRAME_TYPE_ERROR, FRAME_TYPE_RESPONSE, HEARTBEAT, MAGIC_V2, MESSAGE_ID_LENGTH, encodeFrame } from "../protocol/frames.ts";
import { goQuote } from "../protocol/go-quote.ts";
import { parseMessageNode, parseMessageSequence } from "../protocol/message-id.ts";
import { decodeMpub } from "../protocol/mpub.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { parseBase10 } from "../protocol/numbers.ts";
import { ClientAuth } from "./client-auth.ts";
import { clientStats } from "./client-stats.ts";
import { ClientUpgrades, type Compression } from "./client-upgrades.ts";
import { applyIdentify, decodeIdentify, defaultClientSettings, type ClientSettings } from "./identify.ts";
import { RELAY_AGENT_MARK, type RelayOpener, type SubscriberRelay } from "./relay-hook.ts";
import type { TlsSettings } from "./tls.ts";
import { Transport, type TlsSession } from "./transport.ts";

/** Client states, numbered as nsqd reports them in /stats. */
export const enum ClientState {
  Init = 0,
  Disconnected = 1,
  Connected = 2,
  Subscribed = 3,
  Closing = 4,
}

const ascii = (s: string) => new TextEncoder().encode(s);
const CMD_FIN = ascii("FIN");
const CMD_RDY = ascii("RDY");
const CMD_REQ = ascii("REQ");
const CMD_PUB = ascii("PUB");
const CMD_MPUB = ascii("MPUB");
const CMD_DPUB = ascii("DPUB");
const CMD_NOP = ascii("NOP");
const CMD_TOUCH = ascii("TOUCH");
const CMD_SUB = ascii("SUB");
const CMD_CLS = ascii("CLS");
const CMD_AUTH = ascii("AUTH");
const CMD_IDENTIFY = ascii("IDENTIFY");
const MAGIC = ascii(MAGIC_V2);

const FRAME_HEARTBEAT = encodeFrame(FRAME_TYPE_RESPONSE, HEARTBEAT);
const FRAME_CLOSE_WAIT = encodeFrame(FRAME_TYPE_RESPONSE, "CLOSE_WAIT");
export const FRAME_BAD_PROTOCOL = encodeFrame(FRAME_TYPE_ERROR, "E_BAD_PROTOCOL");

/** What the body that follows a command line is for. */
const enum Pending {
  None,
  Identify,
  Auth,
  Pub,
  Mpub,
  Dpub,
}

/** The services a connection needs from the server that accepted it. */
export interface ClientHost {
  readonly nsqd: NSQD;
  /** Set with --tls-cert: clients may upgrade to TLS. */
  readonly tls: TlsSettings | null;
  /** Event handlers of upgraded (TLS) sockets. */
  readonly tlsHandlers: SocketHandler<ClientV2>;
  /** Set with --auth-http-address: clients must AUTH. */
  readonly auth: AuthServers | null;
  /** Set in a worker of `--workers=N`: subscribers get their siblings' messages too. */
  readonly relays: RelayOpener | null;
  closed(client: ClientV2): void;
}

/**
 * One TCP connection speaking protocol V2: parses its commands and runs them
 * against the nsqd; its Transport owns the socket and the output. Once subscribed
 * it is the Subscriber its channel hands messages to.
 */
export class ClientV2 implements CommandHandler, Subscriber {
  /** Turns received bytes into calls of the CommandHandler methods; AUTH and TLS pause it. */
  readonly parser: CommandParser;
  readonly connectTime = Date.now();
  private protocolState = ClientState.Init;
  private readonly negotiated: ClientSettings;
  /** Socket, TLS, compression, output buffering and closing. */
  private readonly transport: Transport<ClientV2>;
  /** --tls-required: until the connection is TLS only IDENTIFY is accepted. */
  private readonly tlsRequired: boolean;
  /** Runs the upgrades IDENTIFY negotiated on the transport. */
  private readonly upgrades: ClientUpgrades;
  /** AUTH and the checks it puts before SUB and publishes; null without --auth-http-address. */
  private readonly clientAuth: ClientAuth | null;

  private identifiedId: string;
  private identifiedHostname: string;
  private identifiedUserAgent = "";
  /** A sibling worker's relay link (its user_agent says so): a standby consumer. */
  private relayLink = false;

  private subscribed: Channel | null = null;
  /** The channel's messages of sibling workers (`--workers=N`); null otherwise. */
  private relay: SubscriberRelay | null = null;
  private ready = 0;
  private inFlight = 0;
  private messages = 0;
  private finishes = 0;
  private requeues = 0;
  /** Messages published by this client, per topic name (nsqd's pub_counts). */
  private readonly published = new Map<string, number>();

  private lastRead = Date.now();
  private nextHeartbeat: number;

  private pending = Pending.None;
  private pendingTopic = "";
  private pendingDefer = 0;
  private lastTopic: Topic | null = null;
  /** Offset and length of each message of the MPUB being handled (reused). */
  private readonly mpubSpans: number[] = [];

  constructor(
    readonly id: number,
    socket: Socket<ClientV2>,
    private readonly host: ClientHost,
    readonly remoteAddress: string,
  ) {
    const opts = host.nsqd.options;
    this.parser = new CommandParser(this);
    this.negotiated = defaultClientSettings(opts);
    this.transport = new Transport(socket, this.parser, this.negotiated, host.nsqd.answers, host.nsqd.logger, remoteAddress);
    const remoteHost = remoteAddress.slice(0, remoteAddress.lastIndexOf(":"));
    this.identifiedId = remoteHost;
    this.identifiedHostname = remoteHost;
    this.nextHeartbeat = this.lastRead + this.negotiated.heartbeatInterval;
    this.tlsRequired = host.tls !== null && opts.tlsRequired !== "false";
    this.upgrades = new ClientUpgrades(this, this.transport, host);
    this.clientAuth = host.auth === null ? null : new ClientAuth(this, this.transport, host.auth, host.nsqd.logger);
  }

  private get nsqd(): NSQD {
    return this.host.nsqd;
  }

  toString(): string {
    return this.remoteAddress;
  }

  // ---- what /stats and the tests read ----

  get state(): ClientState {
    return this.protocolState;
  }

  /** The settings IDENTIFY negotiated (nsqd's defaults before it). */
  get settings(): Readonly<ClientSettings> {
    return this.negotiated;
  }

  get clientId(): string {
    return this.identifiedId;
  }

  get hostname(): string {
    return this.identifiedHostname;
  }

  get userAgent(): string {
    return this.identifiedUserAgent;
  }

  get readyCount(): number {
    return this.ready;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  get messageCount(): number {
    return this.messages;
  }

  get finishCount(): number {
    return this.finishes;
  }

  get requeueCount(): number {
    return this.requeues;
  }

  get pubCounts(): ReadonlyMap<string, number> {
    return this.published;
  }

  /** The channel this client subscribed to, null before SUB. */
  get channel(): Channel | null {
    return this.subscribed;
  }

  /** When the client last sent anything (ms since the epoch). */
  get lastReadAt(): number {
    return this.lastRead;
  }

  /** When the next heartbeat is due. */
  get nextHeartbeatAt(): number {
    return this.nextHeartbeat;
  }

  get tls(): boolean {
    return this.transport.isTls;
  }

  /** Protocol version and cipher for /stats; null unless upgraded to TLS. */
  tlsSession(): TlsSession | null {
    return this.transport.tlsSession();
  }

  get compression(): Compression {
    return this.transport.compression;
  }

  /** What the auth server granted; null before AUTH. */
  get auth(): AuthState | null {
    return this.clientAuth?.state ?? null;
  }

  /** The secret this connection authorized with; null without AUTH. */
  get authSecret(): string | null {
    return this.clientAuth?.secret ?? null;
  }

  /** Closing or closed. */
  get closed(): boolean {
    return this.transport.isClosed;
  }

  /** The socket did not take everything: no new messages until it drains. */
  get blocked(): boolean {
    return this.transport.isBlocked;
  }

  /** Output the socket has not taken yet, in bytes. */
  get pendingBytes(): number {
    return this.transport.pendingBytes;
  }

  // ---- socket events ----

  onData(chunk: Uint8Array): void {
    this.lastRead = Date.now();
    try {
      this.transport.receive(chunk);
    } catch (err) {
      if (err instanceof CodecError) {
        this.nsqd.logger.error(`PROTOCOL(V2): [${this}] failed to read command - ${err.message}`);
        return this.close();
      }
      // a bug must cost this connection, never the process
      this.nsqd.logger.error(`[${this}] internal error - ${(err as Error).stack ?? err}`);
      this.close();
    }
  }

  onDrain(): void {
    this.transport.flush();
    if (!this.transport.isBlocked && this.subscribed !== null) this.subscribed.pump();
  }

  onClose(): void {
    if (this.protocolState === ClientState.Disconnected) return;
    this.protocolState = ClientState.Disconnected;
    this.transport.ended();
    const channel = this.subscribed;
    if (channel !== null) {
      this.subscribed = null;
      channel.removeConsumer(this);
    }
    this.relay?.close();
    this.relay = null;
    this.host.closed(this);
    this.nsqd.logger.info(`PROTOCOL(V2): [${this}] exiting ioloop`);
  }

  onHandshake(success: boolean, authError: Error | null): void {
    this.upgrades.onHandshake(success, authError);
  }

  /**
   * The server's timer: closes a connection that sent nothing for two heartbeat
   * intervals, and sends a heartbeat when one is due.
   */
  tick(now: number): void {
    const interval = this.negotiated.heartbeatInterval;
    if (interval <= 0) return;
    if (now - this.lastRead > interval * 2) {
      this.nsqd.logger.error(`PROTOCOL(V2): [${this}] failed to read command - no data within ${interval * 2}ms`);
      this.close();
      return;
    }
    if (now >= this.nextHeartbeat) {
      this.nextHeartbeat = now + interval;
      // during a TLS handshake the next frame must be the upgrade's OK
      if (!this.transport.isHandshaking) this.respond(FRAME_HEARTBEAT);
    }
  }

  // ---- output ----

  /** Queues a response frame (sent at the end of the turn, see Transport). */
  respond(frame: Uint8Array): void {
    this.transport.write(frame);
  }

  /** Sends an error; a fatal one closes the connection after it is written. */
  sendError(err: ClientError): void {
    const level = err.fatal ? "error" : "warn";
    this.nsqd.logger[level](`[${this}] - ${err.message}`);
    const frame = encodeFrame(FRAME_TYPE_ERROR, err.frameText);
    if (err.fatal) this.transport.writeAndClose(frame);
    else this.transport.write(frame);
  }

  /** Ends the connection; onClose does the bookkeeping when the socket reports it. */
  close(): void {
    this.transport.close();
  }

  // ---- Subscriber ----

  get msgTimeout(): number {
    return this.negotiated.msgTimeout;
  }

  get sampleRate(): number {
    return this.negotiated.sampleRate;
  }

  get standby(): boolean {
    return this.relayLink;
  }

  stats(): ClientStats {
    return clientStats(this);
  }

  isReady(): boolean {
    const ready = this.relay === null ? this.ready : this.relay.localReady;
    return this.protocolState === ClientState.Subscribed && this.transport.writable && this.inFlight < ready;
  }

  send(d: Delivery): void {
    this.messages++;
    this.inFlight++;
    this.transport.writeMessage(d);
  }

  finished(): void {
    this.finishes++;
    this.inFlight--;
  }

  requeued(): void {
    this.requeues++;
    this.inFlight--;
  }

  timedOut(): void {
    this.inFlight--;
  }

  emptied(): void {
    this.inFlight--;
  }

  // ---- CommandHandler ----

  magic(bytes: Uint8Array): boolean {
    for (let i = 0; i < 4; i++) {
      if (bytes[i] !== MAGIC[i]) {
        this.nsqd.logger.error(`client(${this}) bad protocol magic '${bytesToString(bytes, 0, 4)}'`);
        this.transport.writeAndClose(FRAME_BAD_PROTOCOL);
        return false;
      }
    }
    return true;
  }

  lineTooLong(limit: number): void {
    this.sendError(fatal("E_INVALID", `command line longer than ${limit} bytes`));
  }

  line(line: CommandLine): boolean {
    if (this.nsqd.logger.enabled("debug")) this.nsqd.logger.debug(`PROTOCOL(V2): [${this}] ${line.text()}`);
    try {
      return this.exec(line);
    } catch (err) {
      if (err instanceof ClientError) {
        this.sendError(err);
        return false;
      }
      throw err;
    }
  }

  /** Runs a command; returns true when a body follows. Throws ClientError. */
  private exec(line: CommandLine): boolean {
    if (this.tlsRequired && !this.transport.isTls && !line.argIs(0, CMD_IDENTIFY)) {
      throw fatal("E_INVALID", `cannot ${line.arg(0)} in current state (TLS required)`);
    }
    if (line.argIs(0, CMD_FIN)) this.fin(line);
    else if (line.argIs(0, CMD_RDY)) this.rdy(line);
    else if (line.argIs(0, CMD_REQ)) this.req(line);
    else if (line.argIs(0, CMD_PUB)) return this.beginPublish(line, Pending.Pub, "PUB");
    else if (line.argIs(0, CMD_MPUB)) return this.beginPublish(line, Pending.Mpub, "MPUB");
    else if (line.argIs(0, CMD_DPUB)) return this.beginPublish(line, Pending.Dpub, "DPUB");
    else if (line.argIs(0, CMD_NOP)) return false;
    else if (line.argIs(0, CMD_TOUCH)) this.touch(line);
    else if (line.argIs(0, CMD_SUB)) this.sub(line);
    else if (line.argIs(0, CMD_CLS)) this.cls();
    else if (line.argIs(0, CMD_IDENTIFY)) return this.beginIdentify();
    else if (line.argIs(0, CMD_AUTH)) return this.beginAuth(line);
    else throw fatal("E_INVALID", `invalid command ${line.arg(0)}`);
    return false;
  }

  bodySize(size: number): void {
    try {
      this.checkBodySize(size);
    } catch (err) {
      if (err instanceof ClientError) return this.sendError(err);
      throw err;
    }
  }

  body(bytes: Uint8Array): void {
    try {
      this.execBody(bytes);
    } catch (err) {
      if (err instanceof ClientError) return this.sendError(err);
      throw err;
    }
  }

  // ---- commands ----

  private beginIdentify(): boolean {
    if (this.protocolState !== ClientState.Init) throw fatal("E_INVALID", "cannot IDENTIFY in current state");
    this.pending = Pending.Identify;
    return true;
  }

  private beginAuth(line: CommandLine): boolean {
    if (this.protocolState !== ClientState.Init) throw fatal("E_INVALID", "cannot AUTH in current state");
    if (line.argc !== 1) throw fatal("E_INVALID", "AUTH invalid number of parameters");
    this.pending = Pending.Auth;
    return true;
  }

  private beginPublish(line: CommandLine, kind: Pending, cmd: string): boolean {
    const minArgs = kind === Pending.Dpub ? 3 : 2;
    if (line.argc < minArgs) throw fatal("E_INVALID", `${cmd} insufficient number of parameters`);
    const topic = line.arg(1);
    if (!isValidTopicName(topic)) {
      const quoted = goQuote(line.buf.subarray(line.argStart[1], line.argEnd[1]));
      // nsqd 1.3 repeats the code inside MPUB's description; kept byte for byte
      const prefix = kind === Pending.Mpub ? "E_BAD_TOPIC " : "";
      throw fatal("E_BAD_TOPIC", `${prefix}${cmd} topic name ${quoted} is not valid`);
    }
    if (kind === Pending.Dpub) {
      const ms = parseBase10(line.buf, line.argStart[2], line.argEnd[2]);
      if (ms < 0) throw fatal("E_INVALID", `DPUB could not parse timeout ${line.arg(2)}`);
      const max = this.nsqd.options.maxReqTimeout;
      if (ms > max) throw fatal("E_INVALID", `DPUB timeout ${ms} out of range 0-${max}`);
      this.pendingDefer = ms;
    }
    this.pendingTopic = topic;
    this.pending = kind;
    return true;
  }

  private checkBodySize(size: number): void {
    const opts = this.nsqd.options;
    switch (this.pending) {
      case Pending.Identify:
      case Pending.Auth: {
        const cmd = this.pending === Pending.Identify ? "IDENTIFY" : "AUTH";
        if (size > opts.maxBodySize) throw fatal("E_BAD_BODY", `${cmd} body too big ${size} > ${opts.maxBodySize}`);
        if (size <= 0) throw fatal("E_BAD_BODY", `${cmd} invalid body size ${size}`);
        return;
      }
      case Pending.Pub:
      case Pending.Dpub: {
        const cmd = this.pending === Pending.Pub ? "PUB" : "DPUB";
        if (size <= 0) throw fatal("E_BAD_MESSAGE", `${cmd} invalid message body size ${size}`);
        if (size > opts.maxMsgSize) throw fatal("E_BAD_MESSAGE", `${cmd} message too big ${size} > ${opts.maxMsgSize}`);
        return;
      }
      case Pending.Mpub:
        if (size <= 0) throw fatal("E_BAD_BODY", `MPUB invalid body size ${size}`);
        if (size > opts.maxBodySize) throw fatal("E_BAD_BODY", `MPUB body too big ${size} > ${opts.maxBodySize}`);
        return;
      case Pending.None:
        throw new Error("body size without a pending command");
    }
  }

  private execBody(body: Uint8Array): void {
    const kind = this.pending;
    this.pending = Pending.None;
    switch (kind) {
      case Pending.Identify:
        return this.identify(body);
      case Pending.Auth:
        if (this.clientAuth === null) throw fatal("E_AUTH_DISABLED", "AUTH disabled");
        return this.clientAuth.authenticate(body);
      case Pending.Pub:
        if (this.clientAuth !== null) return this.authorizedPublish(body, [0, body.length], 0, "PUB", "E_PUB_FAILED");
        return this.publish(body, "PUB", "E_PUB_FAILED", 0);
      case Pending.Dpub:
        if (this.clientAuth !== null) {
          return this.authorizedPublish(body, [0, body.length], this.pendingDefer, "DPUB", "E_DPUB_FAILED");
        }
        return this.publish(body, "DPUB", "E_DPUB_FAILED", this.pendingDefer);
      case Pending.Mpub: {
        const opts = this.nsqd.options;
        const spans = this.mpubSpans;
        const count = decodeMpub(body, opts.maxMsgSize, opts.maxBodySize, spans);
        if (this.clientAuth !== null) return this.authorizedPublish(body, spans.slice(0, 2 * count), 0, "MPUB", "E_MPUB_FAILED");
        return this.putMessages(body, spans, count, 0, "MPUB", "E_MPUB_FAILED");
      }
      case Pending.None:
        throw new Error("body without a pending command");
    }
  }

  /** The span of a PUB's one message (reused). */
  private readonly single: number[] = [0, 0];

  private publish(body: Uint8Array, cmd: string, code: string, deferMs: number): void {
    this.single[1] = body.length;
    this.putMessages(body, this.single, 1, deferMs, cmd, code);
  }

  /** Publishes the messages at `spans` of `source` (see Topic.publish) and answers OK. */
  private putMessages(
    source: Uint8Array,
    spans: readonly number[],
    count: number,
    deferMs: number,
    cmd: string,
    code: string,
    name = this.pendingTopic,
  ): void {
    let topic = this.lastTopic;
    if (topic === null || topic.name !== name || topic.deleted) {
      topic = this.nsqd.getTopic(name);
      this.lastTopic = topic;
    }
    try {
      topic.publish(source, spans, count, deferMs);
    } catch (err) {
      throw refused(err, code, `${cmd} failed`, true);
    }
    this.published.set(name, (this.published.get(name) ?? 0) + count);
    this.respond(FRAME_OK);
  }

  /** putMessages once AUTH allows it (perhaps after a query): `spans` must not be reused. */
  private authorizedPublish(source: Uint8Array, spans: readonly number[], deferMs: number, cmd: string, code: string): void {
    const topic = this.pendingTopic;
    const publish = () => this.putMessages(source, spans, spans.length / 2, deferMs, cmd, code, topic);
    this.clientAuth!.authorize(cmd, topic, "", publish);
  }

  private identify(body: Uint8Array): void {
    const opts = this.nsqd.options;
    const data = decodeIdentify(body);
    if (data === null) throw fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
    this.identifiedId = data.client_id || data.short_id || this.identifiedId;
    this.identifiedHostname = data.hostname || data.long_id || this.identifiedHostname;
    this.identifiedUserAgent = data.user_agent;
    this.relayLink = data.user_agent.startsWith(RELAY_AGENT_MARK);
    applyIdentify(this.negotiated, data, opts);
    this.nextHeartbeat = Date.now() + this.negotiated.heartbeatInterval;
    if (!data.feature_negotiation) return this.respond(FRAME_OK);
    const tlsV1 = this.host.tls !== null && data.tls_v1;
    const deflate = opts.deflate && data.deflate;
    const snappy = opts.snappy && data.snappy;
    if (deflate && snappy) throw fatal("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression");
    // nsqd reports 6 (capped by the maximum) unless deflate is negotiated with a level
    const deflateLevel = Math.min(deflate && data.deflate_level > 0 ? data.deflate_level : 6, opts.maxDeflateLevel);
    const response = JSON.stringify({
      max_rdy_count: opts.maxRdyCount,
      version: VERSION,
      max_msg_timeout: opts.maxMsgTimeout,
      msg_timeout: this.negotiated.msgTimeout,
      tls_v1: tlsV1,
      deflate,
      deflate_level: deflateLevel,
      max_deflate_level: opts.maxDeflateLevel,
      snappy,
      sample_rate: this.negotiated.sampleRate,
      auth_required: this.host.auth !== null,
      output_buffer_size: this.negotiated.outputBufferSize,
      output_buffer_timeout: this.negotiated.outputBufferTimeout,
    });
    this.respond(encodeFrame(FRAME_TYPE_RESPONSE, response));
    const compression: Compression = snappy ? "snappy" : deflate ? "deflate" : "";
    this.upgrades.begin(tlsV1, compression, deflateLevel);
  }

  private sub(line: CommandLine): void {
    if (this.protocolState !== ClientState.Init) throw fatal("E_INVALID", "cannot SUB in current state");
    if (this.negotiated.heartbeatInterval <= 0) throw fatal("E_INVALID", "cannot SUB with heartbeats disabled");
    if (line.argc < 3) throw fatal("E_INVALID", "SUB insufficient number of parameters");
    const topicName = line.arg(1);
    if (!isValidTopicName(topicName)) {
      throw fatal("E_BAD_TOPIC", `SUB topic name ${goQuote(line.buf.subarray(line.argStart[1], line.argEnd[1]))} is not valid`);
    }
    const channelName = line.arg(2);
    if (!isValidChannelName(channelName)) {
      throw fatal("E_BAD_CHANNEL", `SUB channel name ${goQuote(line.buf.subarray(line.argStart[2], line.argEnd[2]))} is not valid`);
    }
    if (this.clientAuth !== null) {
      return this.clientAuth.authorize("SUB", topicName, channelName, () => this.subscribe(topicName, channelName));
    }
    this.subscribe(topicName, channelName);
  }

  private subscribe(topicName: string, channelName: string): void {
    const channel = this.nsqd.getChannel(topicName, channelName);
    const max = this.nsqd.options.maxChannelConsumers;
    if (max !== 0 && channel.consumers.length >= max) {
      throw fatal("E_SUB_FAILED", `SUB failed consumers for ${topicName}:${channelName} exceeds limit of ${max}`);
    }
    channel.addConsumer(this);
    this.subscribed = channel;
    this.protocolState = ClientState.Subscribed;
    this.respond(FRAME_OK);
    this.relay = this.host.relays?.open(this, topicName, channelName) ?? null;
  }

  private rdy(line: CommandLine): void {
    if (this.protocolState === ClientState.Closing) return; // RDY after CLS is ignored
    if (this.protocolState !== ClientState.Subscribed) throw fatal("E_INVALID", "cannot RDY in current state");
    let count = 1;
    if (line.argc > 1) {
      count = parseBase10(line.buf, line.argStart[1], line.argEnd[1]);
      if (count < 0) throw fatal("E_INVALID", `RDY could not parse count ${line.arg(1)}`);
    }
    const max = this.nsqd.options.maxRdyCount;
    if (count > max) throw fatal("E_INVALID", `RDY count ${count} out of range 0-${max}`);
    this.ready = count;
    this.relay?.ready(count);
    this.subscribed!.pump();
  }

  /**
   * Checks state and id of FIN / REQ / TOUCH; returns the message sequence, or -1
   * for an id that cannot be in flight (its node is then read with messageNode).
   */
  private messageCommand(line: CommandLine, cmd: string, minArgs: number): number {
    if (this.protocolState !== ClientState.Subscribed && this.protocolState !== ClientState.Closing) {
      throw fatal("E_INVALID", `cannot ${cmd} in current state`);
    }
    if (line.argc < minArgs) throw fatal("E_INVALID", `${cmd} insufficient number of params`);
    if (line.argLength(1) !== MESSAGE_ID_LENGTH) throw fatal("E_INVALID", "Invalid Message ID");
    return parseMessageSequence(line.buf, line.argStart[1]);
  }

  /** The node of the id messageCommand accepted. */
  private messageNode(line: CommandLine): number {
    return parseMessageNode(line.buf, line.argStart[1]);
  }

  /** A message command for a sibling worker's message goes to it (true), or is handled here. */
  private relayed(seq: number, line: CommandLine): boolean {
    if (seq < 0 || this.relay === null) return false;
    const node = this.messageNode(line);
    if (node === this.nsqd.ids.node) return false;
    return this.relay.forward(node, line.buf, line.argStart[0], line.argEnd[line.argc - 1]);
  }

  private fin(line: CommandLine): void {
    const seq = this.messageCommand(line, "FIN", 2);
    if (this.relayed(seq, line)) return;
    try {
      if (seq < 0) throw new Refusal(NOT_IN_FLIGHT);
      this.subscribed!.finish(this, seq, this.messageNode(line));
    } catch (err) {
      throw refused(err, "E_FIN_FAILED", `FIN ${line.arg(1)} failed`);
    }
  }

  private req(line: CommandLine): void {
    const seq = this.messageCommand(line, "REQ", 3);
    let ms = parseBase10(line.buf, line.argStart[2], line.argEnd[2]);
    if (ms < 0) throw fatal("E_INVALID", `REQ could not parse timeout ${line.arg(2)}`);
    if (this.relayed(seq, line)) return; // the sibling caps the timeout as below
    const max = this.nsqd.options.maxReqTimeout;
    if (ms > max) {
      this.nsqd.logger.info(`PROTOCOL(V2): [${this}] REQ timeout ${ms} out of range 0-${max}. Setting to ${max}`);
      ms = max;
    }
    try {
      if (seq < 0) throw new Refusal(NOT_IN_FLIGHT);
      this.subscribed!.requeue(this, seq, this.messageNode(line), ms);
    } catch (err) {
      throw refused(err, "E_REQ_FAILED", `REQ ${line.arg(1)} failed`);
    }
  }

  private touch(line: CommandLine): void {
    const seq = this.messageCommand(line, "TOUCH", 2);
    if (this.relayed(seq, line)) return;
    try {
      if (seq < 0) throw new Refusal(NOT_IN_FLIGHT);
      this.subscribed!.touch(this, seq, this.messageNode(line), this.nsqd.options.maxMsgTimeout);
    } catch (err) {
      throw refused(err, "E_TOUCH_FAILED", `TOUCH ${line.arg(1)} failed`);
    }
  }

  private cls(): void {
    if (this.protocolState !== ClientState.Subscribed) throw fatal("E_INVALID", "cannot CLS in current state");
    this.ready = 0;
    this.relay?.ready(0);
    this.protocolState = ClientState.Closing;
    this.respond(FRAME_CLOSE_WAIT);
  }
}

/**
 * A core Refusal as the client's error frame (`<prefix> <reason>`, nsqd's
 * wording); anything else thrown is a bug and goes on up.
 */
function refused(err: unknown, code: string, prefix: string, closes = false): unknown {
  if (!(err instanceof Refusal)) return err;
  return closes ? fatal(code, `${prefix} ${err.message}`) : nonFatal(code, `${prefix} ${err.message}`);
}
