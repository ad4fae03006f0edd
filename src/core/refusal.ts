/**
 * The core's one error convention. A client's request that the core refuses (a
 * publish it cannot store, a FIN, REQ or TOUCH of a message the client does not
 * hold) throws a Refusal worded as nsqd words the reason; the TCP and HTTP doors
 * turn it into their protocol's error (E_PUB_FAILED, E_FIN_FAILED, HTTP 500, ...).
 * Anything else thrown out of the core is a bug.
 */
export class Refusal extends Error {}

/** nsqd's reasons for refusing a FIN, REQ or TOUCH. */
export const NOT_IN_FLIGHT = "ID not in flight";
export const NOT_OWNER = "client does not own message";
