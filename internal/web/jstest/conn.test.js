import { test } from "node:test";
import assert from "node:assert/strict";
import { backoff, wsURL } from "../static/js/conn.js";

test("backoff doubles from 300 ms to 10 s with full jitter in [d/2, d]", () => {
  const want = [300, 600, 1200, 2400, 4800, 9600, 10000, 10000];
  want.forEach((d, i) => {
    assert.equal(backoff(i + 1, () => 0), d / 2, `attempt ${i + 1}, lowest`);
    assert.equal(backoff(i + 1, () => 0.999999), d, `attempt ${i + 1}, highest`);
  });
  assert.equal(backoff(1000, () => 0.5), 7500, "no overflow far out");
});

test("the stream URL carries the resume position with its epoch, and the token", () => {
  const page = { protocol: "http:", host: "127.0.0.1:8080" };
  assert.equal(wsURL(page, "/ws", null, ""), "ws://127.0.0.1:8080/ws");
  assert.equal(wsURL(page, "/ws", { seq: 512, epoch: "9f8e7d6c" }, ""), "ws://127.0.0.1:8080/ws?since=512&epoch=9f8e7d6c");
  assert.equal(wsURL(page, "/ws", { seq: 0, epoch: "" }, "t o"), "ws://127.0.0.1:8080/ws?since=0&token=t+o",
    "a server without epochs gets since alone");
  assert.equal(wsURL({ protocol: "https:", host: "lab:8443" }, "/ws/mic", null, ""), "wss://lab:8443/ws/mic");
});
