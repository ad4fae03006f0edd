import { expect, test } from "bun:test";
import { httpUrl, joinHostPort, splitHostPort } from "../../src/common/host-port.ts";

test("splitHostPort takes names, IPv4 and bracketed IPv6 hosts apart", () => {
  expect(splitHostPort("example.com:4150", "0.0.0.0")).toEqual({ hostname: "example.com", port: 4150 });
  expect(splitHostPort("10.0.0.1:0", "0.0.0.0")).toEqual({ hostname: "10.0.0.1", port: 0 });
  expect(splitHostPort("[::1]:4161", "0.0.0.0")).toEqual({ hostname: "::1", port: 4161 });
});

test("an empty host is the caller's default", () => {
  expect(splitHostPort(":4151", "0.0.0.0")).toEqual({ hostname: "0.0.0.0", port: 4151 });
  expect(splitHostPort(":4150", "127.0.0.1")).toEqual({ hostname: "127.0.0.1", port: 4150 });
});

test("a missing or impossible port is an error", () => {
  expect(() => splitHostPort("localhost", "0.0.0.0")).toThrow('invalid address "localhost", expected host:port');
  expect(() => splitHostPort("localhost:65536", "0.0.0.0")).toThrow('invalid port in "localhost:65536"');
  expect(() => splitHostPort("localhost:http", "0.0.0.0")).toThrow("invalid port");
});

test("joinHostPort brackets IPv6 hosts and round-trips with splitHostPort", () => {
  expect(joinHostPort("::1", 4150)).toBe("[::1]:4150");
  expect(joinHostPort("10.0.0.1", 4150)).toBe("10.0.0.1:4150");
  expect(splitHostPort(joinHostPort("fe80::1", 80), "x")).toEqual({ hostname: "fe80::1", port: 80 });
});

test("httpUrl accepts host:port or a URL", () => {
  expect(httpUrl("127.0.0.1:4161", "/topics")).toBe("http://127.0.0.1:4161/topics");
  expect(httpUrl("https://lookupd.example:4161/", "/topics")).toBe("https://lookupd.example:4161/topics");
});
