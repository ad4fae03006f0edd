/** nsqadmin's --dev-static-dir: the web UI's assets come from that folder instead of the built-in ones. */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAdminOptions } from "../../src/admin/options.ts";
import { startNsqadmin } from "../../src/cli/nsqadmin.ts";
import { quietLogger } from "../helpers/lookupd.ts";
import { perTestCleanups } from "../helpers/nsqd.ts";

const { defer } = perTestCleanups();

function admin(overrides: Record<string, unknown> = {}): string {
  const a = startNsqadmin(
    parseAdminOptions({ httpAddress: "127.0.0.1:0", nsqdHttpAddresses: ["127.0.0.1:4151"], ...overrides }),
    quietLogger,
  );
  defer(() => a.stop());
  return `http://127.0.0.1:${a.httpPort}`;
}

async function get(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

test("assets are read from --dev-static-dir at each request; names outside it are 404", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bunsq-static-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "app.js"), "console.log('dev build');\n");
  mkdirSync(join(dir, "sub"));
  const origin = admin({ devStaticDir: dir });

  expect(await get(`${origin}/static/app.js`)).toEqual({
    status: 200,
    type: "text/javascript; charset=utf-8",
    text: "console.log('dev build');\n",
  });
  writeFileSync(join(dir, "added.css"), "body { color: red }\n");
  expect((await get(`${origin}/static/added.css`)).text).toBe("body { color: red }\n");
  // built-in assets are not mixed in, and nothing outside the folder is reachable
  for (const path of ["style.css", "sub", ".hidden", "..%2Fapp.js", "..%2F..%2Fpackage.json"]) {
    expect([path, (await get(`${origin}/static/${path}`)).status]).toEqual([path, 404]);
  }
  expect((await get(`${origin}/`)).status).toBe(200);
});

test("without it the built-in assets are served", async () => {
  const origin = admin();
  const app = await get(`${origin}/static/app.js`);
  expect(app.status).toBe(200);
  expect(app.text).toBe(readFileSync(join(import.meta.dir, "../../src/admin/static/app.js"), "utf8"));
  expect((await get(`${origin}/static/added.css`)).status).toBe(404);
});
