/** bunsq's NSQ client: Producer and Consumer for any Bun (or Node) program. */
export { Producer, PublishError, type ProducerConfig } from "./producer.ts";
export {
  Consumer,
  defaultConsumerConfig,
  type ClientLogLevel,
  type ConsumerConfig,
  type ConsumerOptions,
  type ConsumerStats,
  type MessageHandler,
} from "./consumer.ts";
export { Message } from "./message.ts";
export { defaultConnectionConfig, type ConnectionConfig } from "./config.ts";
export type { ConnectionInfo } from "./connection.ts";
export { NegotiationError, type AuthResponse } from "./negotiate.ts";
export { lookupTopic } from "./lookup.ts";
