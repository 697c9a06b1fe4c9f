// @ts-check
// Builders of v1 packets for the tests, written from docs/protocol.md
// (the golden table checks the page's decoder against Go's encoder).

import { crc32c } from "../static/js/packet.js";

const SIZES = { 1: 2, 2: 2, 3: 4, 4: 4 };

/**
 * packet wraps a body: version 1, type, length, body, CRC-32C.
 * @param {number} type
 * @param {Uint8Array} body
 * @returns {ArrayBuffer}
 */
export function packet(type, body) {
  const buf = new ArrayBuffer(4 + body.length + 4), u8 = new Uint8Array(buf), dv = new DataView(buf);
  u8[0] = 1;
  u8[1] = type;
  dv.setUint16(2, body.length, true);
  u8.set(body, 4);
  dv.setUint32(4 + body.length, crc32c(u8, 0, 4 + body.length), true);
  return buf;
}

/**
 * data builds a data frame; samples are interleaved, count = samples / channels.
 * @param {{seq: number, tUs?: number, rate: number, channels?: number, sampleType?: 1 | 2 | 3 | 4, samples: number[]}} f
 * @returns {ArrayBuffer}
 */
export function data({ seq, tUs = 0, rate, channels = 1, sampleType = 2, samples }) {
  const size = SIZES[sampleType], body = new Uint8Array(20 + samples.length * size), dv = new DataView(body.buffer);
  dv.setUint32(0, seq, true);
  dv.setUint32(4, tUs % 4294967296, true);
  dv.setUint32(8, Math.floor(tUs / 4294967296), true);
  dv.setUint32(12, rate, true);
  body[16] = channels;
  body[17] = sampleType;
  dv.setUint16(18, samples.length / channels, true);
  samples.forEach((v, i) => {
    const p = 20 + i * size;
    if (sampleType === 1) dv.setUint16(p, v, true);
    else if (sampleType === 2) dv.setInt16(p, v, true);
    else if (sampleType === 3) dv.setInt32(p, v, true);
    else dv.setFloat32(p, v, true);
  });
  return packet(1, body);
}

/**
 * fromHex turns a hex string into an ArrayBuffer.
 * @param {string} h
 */
export function fromHex(h) {
  return Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16)).buffer;
}

/**
 * counter makes n sample instants of a counter from start on every channel
 * (channel c holds start+i+c), interleaved.
 * @param {number} start
 * @param {number} n
 * @param {number} channels
 */
export function counter(start, n, channels = 1) {
  const out = [];
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out.push((start + i + c) % 32768);
  return out;
}

/**
 * envelope builds an envelope packet of the samples (interleaved, one
 * channel count) at n per point and phase, covering frames seq..lastSeq.
 * @param {{seq: number, lastSeq: number, tUs?: number, rate: number, channels?: number, n: number, phase?: number, samples: number[]}} e
 * @returns {ArrayBuffer}
 */
export function envelope({ seq, lastSeq, tUs = 0, rate, channels = 1, n, phase = 0, samples }) {
  const count = samples.length / channels, points = count === 0 ? 0 : Math.ceil((phase + count) / n);
  const body = new Uint8Array(36 + points * channels * 2 * 2), dv = new DataView(body.buffer);
  dv.setUint32(0, seq, true);
  dv.setUint32(4, lastSeq, true);
  dv.setUint32(8, tUs % 4294967296, true);
  dv.setUint32(12, Math.floor(tUs / 4294967296), true);
  dv.setUint32(16, rate, true);
  dv.setUint32(20, count, true);
  dv.setUint32(24, n, true);
  dv.setUint32(28, phase, true);
  body[32] = channels;
  body[33] = 2; // i16
  dv.setUint16(34, points, true);
  for (let k = 0; k < points; k++) {
    const from = Math.max(0, k * n - phase), to = Math.min(count, (k + 1) * n - phase);
    for (let c = 0; c < channels; c++) {
      let mn = Infinity, mx = -Infinity;
      for (let i = from; i < to; i++) [mn, mx] = [Math.min(mn, samples[i * channels + c]), Math.max(mx, samples[i * channels + c])];
      dv.setInt16(36 + ((k * channels + c) * 2) * 2, mn, true);
      dv.setInt16(36 + ((k * channels + c) * 2 + 1) * 2, mx, true);
    }
  }
  return packet(5, body);
}
