// A line-driven headless Chromium for the process tests (crates/tests/src/browser.rs).
// Reads one JSON command per line on stdin, answers one JSON line on stdout:
// {"ok":true,"value":…} or {"ok":false,"error":"…"}. Console messages of type "error"
// and uncaught page errors are collected for the "errors" command.
// Environment: HAFS_PLAYWRIGHT_CORE (the playwright-core module dir), HAFS_CHROMIUM
// (the browser binary).
"use strict";

const readline = require("readline");
const { chromium } = require(process.env.HAFS_PLAYWRIGHT_CORE);

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.HAFS_CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push({ text: m.text(), url: (m.location() || {}).url || "" });
  });
  page.on("pageerror", (e) => errors.push({ text: "uncaught: " + e.message, url: "" }));

  const handlers = {
    open: async (c) => { await page.goto(c.url, { waitUntil: "load" }); return page.url(); },
    // Waits until the expression is truthy in the page; returns its value.
    wait: async (c) => {
      const h = await page.waitForFunction(c.js, undefined, { timeout: c.timeout, polling: 200 });
      return await h.jsonValue();
    },
    eval: async (c) => await page.evaluate(c.js),
    fill: async (c) => { await page.fill(c.selector, c.text); return null; },
    click: async (c) => { await page.click(c.selector); return null; },
    files: async (c) => { await page.setInputFiles(c.selector, c.path); return null; },
    screenshot: async (c) => { await page.screenshot({ path: c.path, fullPage: true }); return c.path; },
    errors: async () => errors,
  };

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let reply;
    try {
      const c = JSON.parse(line);
      if (c.cmd === "close") break;
      const h = handlers[c.cmd];
      if (!h) throw new Error("unknown command " + c.cmd);
      reply = { ok: true, value: await h(c) };
    } catch (e) {
      reply = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  }
  await browser.close();
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: "driver failed: " + e.message }) + "\n");
  process.exit(1);
});
