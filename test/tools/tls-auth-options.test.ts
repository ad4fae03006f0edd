/**
 * The tools take go-nsq's TLS / compression / AUTH options through
 * --producer-opt / --consumer-opt, as NSQ's tools do: to_nsq publishes over TLS +
 * snappy with an AUTH secret to an nsqd that requires TLS and AUTH, and nsq_tail
 * reads the messages back over TLS + deflate (spelled the other ways go-nsq
 * accepts: "tls-v1" for tls_v1, a boolean option without a value).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { makeCerts, startAuthServer, type Certs, type TestAuthServer } from "../helpers/features.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";
import { runTool } from "./helpers.ts";

let certs: Certs;
let authServer: TestAuthServer;
beforeAll(() => {
  certs = makeCerts();
  authServer = startAuthServer({
    s3cret: { ttl: 3600, identity: "tools", authorizations: [{ topic: ".*", channels: [".*"], permissions: ["subscribe", "publish"] }] },
  });
});
afterAll(() => {
  authServer.stop();
  certs.remove();
});

const t = perTestCleanups();

test("to_nsq and nsq_tail over TLS with compression and AUTH through -opt flags", async () => {
  const s = t.nsqd({
    tlsCert: certs.serverCert,
    tlsKey: certs.serverKey,
    tlsRequired: "true",
    authHttpAddresses: [authServer.address],
  });
  const address = `--nsqd-tcp-address=127.0.0.1:${s.tcpPort}`;
  const pub = await runTool(
    "to_nsq",
    ["--topic=secure", address, "--producer-opt=tls_v1", `--producer-opt=tls_root_ca_file,${certs.caCert}`,
      "--producer-opt=snappy,true", "--producer-opt=auth_secret,s3cret"],
    "one\ntwo\nthree\n",
  );
  expect(pub.stderr).not.toContain("E_");
  expect(pub.code).toBe(0);
  const tail = await runTool("nsq_tail", [
    "--topic=secure", "--channel=tail", "-n=3", address, "--consumer-opt=tls-v1,true",
    `--consumer-opt=tls-root-ca-file,${certs.caCert}`, "--consumer-opt=deflate", "--consumer-opt=deflate_level,2",
    "--consumer-opt=auth_secret,s3cret",
  ]);
  expect(tail.code).toBe(0);
  expect(tail.stdout).toBe("one\ntwo\nthree\n");

  // without the secret nsqd refuses, and the tool says why
  const refused = await runTool("to_nsq", ["--topic=secure", address, "--producer-opt=tls_v1", "--producer-opt=tls_insecure_skip_verify"], "x\n");
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("AUTH");
}, 30_000);

test("a bad boolean or an unknown option is a usage error", async () => {
  const bad = await runTool("nsq_tail", ["--topic=x", "--nsqd-tcp-address=127.0.0.1:1", "--consumer-opt=tls_v1,maybe"]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain("tls_v1");
  const unknown = await runTool("to_nsq", ["--topic=x", "--nsqd-tcp-address=127.0.0.1:1", "--producer-opt=max_in_flight,5"]);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain("max_in_flight");
});
