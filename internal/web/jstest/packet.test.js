// The page's decoder on the golden table shared by every decoder
// (internal/frame/frametest), handed over by the Go test TestJSUnits as
// JSON in $WSBRIDGE_GOLDEN, and on damaged copies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { crc32c, parsePacket, PacketError } from "../static/js/packet.js";
import { data, fromHex } from "./packets.js";

const goldenFile = process.env.WSBRIDGE_GOLDEN;
const golden = goldenFile ? JSON.parse(readFileSync(goldenFile, "utf8")) : null;
const skip = golden ? false : "WSBRIDGE_GOLDEN is not set: run through go test ./internal/web/ -run TestJSUnits";

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

test("golden packets decode to the fields and samples Go encoded", { skip }, () => {
  assert.ok(golden.ok.length >= 9, "the table has its success cases");
  for (const c of golden.ok) {
    const got = decode(c.hex);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k], v, `${c.name}: ${k}`);
  }
});

test("golden failure cases are refused with the error each must produce", { skip }, () => {
  if (!golden.fail.length) return; // the table has none yet
  for (const c of golden.fail) {
    if (!c.page) continue; // a case of the serial line (COBS) that the page never sees
    const got = decode(c.hex);
    assert.equal(got.error, c.page, `${c.name}: got ${JSON.stringify(got)}`);
  }
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
    ["02011c00", "length"],
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
