// The page's decoder on the golden table every decoder shares
// (internal/frame/frametest/golden.json, generated from the Go table), and
// on damaged packets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { crc32c, parseEnvelope, parsePacket, PacketError, SAMPLE_TYPES } from "../static/js/packet.js";
import { data, envelope, fromHex } from "./packets.js";

const golden = JSON.parse(readFileSync(new URL("../../frame/frametest/golden.json", import.meta.url), "utf8"));

/** decode returns the packet, with samples as a plain array, or {error: kind}. */
function decode(hex) {
  try {
    const p = parsePacket(fromHex(hex));
    return "samples" in p ? { ...p, samples: Array.from(p.samples) } : p;
  } catch (e) {
    if (!(e instanceof PacketError)) throw e;
    return { error: e.kind, message: e.message };
  }
}

/** want maps a golden case to the fields parsePacket must return. */
function want(c) {
  switch (c.type) {
    case "data":
      return { type: "data", seq: c.seq, tUs: c.t_dev_us, rate: c.rate, channels: c.channels,
        sampleType: Number(Object.keys(SAMPLE_TYPES).find((k) => SAMPLE_TYPES[k][0] === c.sample_type)), count: c.count, samples: c.values };
    case "info":
      return { type: "info", name: c.device, firmware: c.firmware, rate: c.rate, channels: c.channels,
        sample_type: c.sample_type, frame_samples: c.frame_samples, channel_info: c.channel_info || [] };
    case "log":
      return { type: "log", text: c.text };
    case "reply":
      return { type: "reply", ok: c.status === 0, text: c.text };
  }
  throw new Error(`golden case ${c.name}: unknown type ${c.type}`);
}

test("golden packets decode to the fields and samples Go encoded", () => {
  assert.ok(golden.good.length >= 9, "the table has its good cases");
  for (const c of golden.good) {
    const got = decode(c.hex);
    for (const [k, v] of Object.entries(want(c))) assert.deepEqual(got[k], v, `${c.name}: ${k}`);
  }
});

test("golden failing packets are refused with the error each must produce", () => {
  const page = golden.bad.filter((c) => c.layer !== "serial"); // the page gets packets, never COBS
  assert.ok(page.length >= 10, "the table has its bad packets");
  for (const c of page) {
    const got = decode(c.hex);
    assert.equal(got.error, c.error, `${c.name}: got ${JSON.stringify(got).slice(0, 200)}`);
  }
});

const envSkip = golden.envelopes ? false : "golden.json has no envelopes yet";

test("golden envelopes decode to the points Go computed", { skip: envSkip }, () => {
  for (const c of golden.envelopes) {
    const e = parseEnvelope(fromHex(c.hex));
    const st = Number(Object.keys(SAMPLE_TYPES).find((k) => SAMPLE_TYPES[k][0] === c.sample_type));
    assert.deepEqual([e.seq, e.lastSeq, e.tUs, e.rate, e.samples, e.n, e.phase, e.channels, e.sampleType, e.points],
      [c.seq, c.last_seq, c.t_dev_us, c.rate, c.samples, c.n, c.phase, c.channels, st, c.points], c.name);
    for (let ch = 0; ch < e.channels; ch++) {
      for (let k = 0; k < e.points; k++) {
        const mn = e.values[(k * e.channels + ch) * 2], mx = e.values[(k * e.channels + ch) * 2 + 1];
        const same = (/** @type {number} */ a, /** @type {number | null} */ b) => (b === null ? Number.isNaN(a) : a === b);
        assert.ok(same(mn, c.min[ch][k]) && same(mx, c.max[ch][k]), `${c.name}: point ${k} of channel ${ch}: ${mn}..${mx}, want ${c.min[ch][k]}..${c.max[ch][k]}`);
      }
    }
  }
});

test("golden failing envelopes are refused with the error each must produce", { skip: envSkip }, () => {
  for (const c of golden.envelope_bad) {
    let kind = "";
    try {
      parseEnvelope(fromHex(c.hex));
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      kind = e.kind;
    }
    assert.equal(kind, c.error, c.name);
  }
});

test("an envelope built here decodes: points on a grid with a phase", () => {
  const e = parseEnvelope(envelope({ seq: 4, lastSeq: 6, rate: 100, channels: 2, n: 4, phase: 1, samples: [1, -1, 2, -2, 3, -3, 4, -4, 5, -5] }));
  assert.deepEqual([e.seq, e.lastSeq, e.samples, e.points], [4, 6, 5, 2]);
  assert.deepEqual(Array.from(e.values), [1, 3, -3, -1, 4, 5, -5, -4]);
});

test("damaged packets are refused with the kind of damage", () => {
  const good = data({ seq: 1, rate: 100, channels: 2, sampleType: 2, samples: [1, 2, 3, 4] });
  const copy = () => Buffer.from(new Uint8Array(good)); // Buffer.from(ArrayBuffer) would share it
  const hex = copy().toString("hex");
  const flip = copy();
  flip[flip.length - 6] ^= 1;
  const cases = [
    [flip.toString("hex"), "crc"],
    [hex.slice(0, -2), "length"],
    ["02011c00", "short"],
    ["0201000000000000", "version"],
  ];
  for (const [h, kind] of cases) assert.equal(decode(h).error, kind, h);
  const unknownType = copy();
  unknownType[1] = 9;
  // Re-seal the CRC so that only the type is wrong.
  assert.equal(decode(reseal(unknownType)).error, "type");
  const badSampleType = copy();
  badSampleType[4 + 17] = 7;
  assert.equal(decode(reseal(badSampleType)).error, "sample_type");
  const badCount = copy();
  badCount[4 + 18] = 3; // 3 instants x 2 channels do not fit 8 bytes of samples
  assert.equal(decode(reseal(badCount)).error, "length");
});

/** reseal recomputes the CRC of a changed packet and returns its hex. */
function reseal(b) {
  b.writeUInt32LE(crc32c(new Uint8Array(b.buffer, b.byteOffset, b.length - 4)), b.length - 4);
  return b.toString("hex");
}
