// @ts-check
// Decoding of the wsbridge v1 packet, as carried in one binary WebSocket
// message (no COBS): prefix (version u8, type u8, body length u16 LE), body,
// CRC-32C u32 LE over prefix and body. See docs/protocol.md.

export const VERSION = 1;
export const PREFIX = 4;
export const CRC_SIZE = 4;
export const DATA_HEADER = 20;
export const TYPE_DATA = 1;
export const TYPE_INFO = 2;
export const TYPE_LOG = 3;
export const TYPE_REPLY = 4;
export const TYPE_ENVELOPE = 5;
export const ENVELOPE_HEADER = 36;
/** A decoded packet is never longer than this (frame.MaxPacketSize). */
export const MAX_PACKET = 65536;

/** @typedef {Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array} Samples */

/**
 * A data frame: count sample instants of channels interleaved samples.
 * @typedef {object} DataFrame
 * @property {number} seq
 * @property {number} tUs device time of the first sample, microseconds
 * @property {number} rate samples per second per channel
 * @property {number} channels
 * @property {number} sampleType 1 u16, 2 i16, 3 i32, 4 f32
 * @property {number} count sample instants
 * @property {Samples} samples count*channels values, interleaved
 */

/**
 * A device description: a device info packet, or wsproto's Device in JSON.
 * @typedef {object} Device
 * @property {string} name
 * @property {string} firmware
 * @property {number} rate
 * @property {number} channels
 * @property {string} sample_type
 * @property {number} frame_samples
 * @property {{name: string, unit: string}[]} channel_info
 */

/**
 * An envelope (type 0x05, serve to ?envelope=N clients): the min and max of
 * every n sample instants per channel over whole frames seq..lastSeq.
 * @typedef {object} Envelope
 * @property {number} seq the first frame covered
 * @property {number} lastSeq the last frame covered, inclusive
 * @property {number} tUs device time of the first covered instant, µs
 * @property {number} rate
 * @property {number} samples sample instants covered
 * @property {number} n sample instants per point
 * @property {number} phase where the first covered instant sits in its point
 * @property {number} channels
 * @property {number} sampleType
 * @property {number} points
 * @property {Samples} values points x channels x (min, max), point-major
 */

/**
 * @typedef {({type: "data"} & DataFrame) | ({type: "info"} & Device) |
 *   {type: "log", text: string} | {type: "reply", ok: boolean, text: string}} Packet
 */

/**
 * Sample types: id -> [name, bytes per sample].
 * @type {Record<number, [string, number]>}
 */
export const SAMPLE_TYPES = {
  1: ["u16", 2],
  2: ["i16", 2],
  3: ["i32", 4],
  4: ["f32", 4],
};

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * crc32c returns the CRC-32C (Castagnoli) of bytes[start:end].
 * @param {Uint8Array} bytes
 */
export function crc32c(bytes, start = 0, end = bytes.length) {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * PacketError is a packet the page refuses. kind names the fault as the
 * golden table does (internal/frame/frametest, golden.json) for every
 * decoder: "short", "too_large", "version", "length", "crc", "type",
 * "sample_type" or "field".
 */
export class PacketError extends Error {
  /**
   * @param {"short" | "too_large" | "version" | "length" | "crc" | "type" | "sample_type" | "field"} kind
   * @param {string} message
   */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/**
 * checkPacket validates prefix, length and CRC of the packet in buf and
 * returns its type.
 * @param {ArrayBuffer} buf
 * @returns {number}
 */
export function checkPacket(buf) {
  const n = buf.byteLength;
  if (n < PREFIX + CRC_SIZE) throw new PacketError("short", `packet of ${n} bytes is too short`);
  if (n > MAX_PACKET) throw new PacketError("too_large", `packet of ${n} bytes exceeds ${MAX_PACKET}`);
  const dv = new DataView(buf);
  if (dv.getUint8(0) !== VERSION) throw new PacketError("version", `packet version ${dv.getUint8(0)}, want ${VERSION}`);
  const body = dv.getUint16(2, true);
  if (body + PREFIX + CRC_SIZE !== n) {
    throw new PacketError("length", `length field ${body}, packet ${n} bytes`);
  }
  const want = dv.getUint32(n - CRC_SIZE, true);
  const got = crc32c(new Uint8Array(buf), 0, n - CRC_SIZE);
  if (want !== got) throw new PacketError("crc", `CRC-32C mismatch: packet says ${hex(want)}, computed ${hex(got)}`);
  return dv.getUint8(1);
}

/** @param {number} v */
function hex(v) {
  return "0x" + v.toString(16).padStart(8, "0");
}

/**
 * parseData decodes a data packet (already checked) into a frame whose
 * samples view the packet (no copy on little-endian hosts).
 * @param {ArrayBuffer} buf
 * @returns {DataFrame}
 */
export function parseData(buf) {
  const dv = new DataView(buf);
  const b = PREFIX, bodyLen = buf.byteLength - PREFIX - CRC_SIZE;
  if (bodyLen < DATA_HEADER) throw new PacketError("short", `data frame of ${bodyLen} bytes is shorter than its header`);
  const seq = dv.getUint32(b, true), channels = dv.getUint8(b + 16), sampleType = dv.getUint8(b + 17);
  const count = dv.getUint16(b + 18, true);
  const st = SAMPLE_TYPES[sampleType];
  if (!st) throw new PacketError("sample_type", `frame ${seq}: unknown sample type ${sampleType}`);
  const n = count * channels;
  const off = PREFIX + DATA_HEADER;
  if (channels === 0 || off + n * st[1] + CRC_SIZE !== buf.byteLength) {
    throw new PacketError("length", `frame ${seq}: ${channels} channels x ${count} ${st[0]} samples do not fit ${buf.byteLength} bytes`);
  }
  return {
    seq, tUs: dv.getUint32(b + 4, true) + dv.getUint32(b + 8, true) * 4294967296, rate: dv.getUint32(b + 12, true),
    channels, sampleType, count, samples: samplesOf(buf, dv, off, n, sampleType),
  };
}

/**
 * samplesOf views (or, on a big-endian host, copies) n samples at off.
 * @param {ArrayBuffer} buf
 * @param {DataView} dv
 * @param {number} off
 * @param {number} n
 * @param {number} type
 * @returns {Samples}
 */
function samplesOf(buf, dv, off, n, type) {
  if (LITTLE_ENDIAN) {
    switch (type) {
      case 1: return new Uint16Array(buf, off, n);
      case 2: return new Int16Array(buf, off, n);
      case 3: return new Int32Array(buf, off, n);
      case 4: return new Float32Array(buf, off, n);
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = off + i * SAMPLE_TYPES[type][1];
    switch (type) {
      case 1: out[i] = dv.getUint16(p, true); break;
      case 2: out[i] = dv.getInt16(p, true); break;
      case 3: out[i] = dv.getInt32(p, true); break;
      case 4: out[i] = dv.getFloat32(p, true); break;
    }
  }
  return out;
}

/**
 * parsePacket checks and decodes any packet type into a plain object with a
 * "type" of "data", "info", "log" or "reply".
 * @param {ArrayBuffer} buf
 * @returns {Packet}
 */
export function parsePacket(buf) {
  const t = checkPacket(buf);
  const body = new Uint8Array(buf, PREFIX, buf.byteLength - PREFIX - CRC_SIZE);
  switch (t) {
    case TYPE_DATA: return { type: "data", ...parseData(buf) };
    case TYPE_INFO: return { type: "info", ...parseInfo(body) };
    case TYPE_LOG: return { type: "log", text: utf8(body) };
    case TYPE_REPLY:
      if (!body.length) throw new PacketError("short", "reply without its status byte");
      return { type: "reply", ok: body[0] === 0, text: utf8(body.subarray(1)) };
  }
  throw new PacketError("type", `unknown packet type ${t}`);
}

const decoder = new TextDecoder();

/** @param {Uint8Array} b */
function utf8(b) {
  return decoder.decode(b);
}

/**
 * parseInfo decodes a device info body.
 * @param {Uint8Array} b
 * @returns {Device}
 */
function parseInfo(b) {
  if (b.length < 8) throw new PacketError("short", "device info too short");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  /** @type {Device} */
  const info = {
    rate: dv.getUint32(0, true), channels: b[4], sample_type: (SAMPLE_TYPES[b[5]] || ["?"])[0],
    frame_samples: dv.getUint16(6, true), name: "", firmware: "", channel_info: [],
  };
  let p = 8;
  const str = () => {
    if (p >= b.length || p + 1 + b[p] > b.length) throw new PacketError("field", "device info string overruns the packet");
    const s = utf8(b.subarray(p + 1, p + 1 + b[p]));
    p += 1 + b[p];
    return s;
  };
  info.name = str();
  info.firmware = str();
  if (p >= b.length) throw new PacketError("field", "device info without channel count");
  const n = b[p++];
  if (n > info.channels) throw new PacketError("field", `device info names ${n} channels of ${info.channels}`);
  for (let i = 0; i < n; i++) info.channel_info.push({ name: str(), unit: str() });
  if (p !== b.length) throw new PacketError("length", "device info has trailing bytes");
  return info;
}

/**
 * envelopePoints is the number of points an envelope of samples instants
 * at phase on a grid of n holds.
 * @param {number} phase
 * @param {number} samples
 * @param {number} n
 */
export function envelopePoints(phase, samples, n) {
  return samples === 0 ? 0 : Math.ceil((phase + samples) / n);
}

/**
 * parseEnvelope checks and decodes an envelope packet (docs/protocol.md,
 * type 0x05), refusing what frame.ParseEnvelope refuses with the same
 * error names.
 * @param {ArrayBuffer} buf
 * @returns {Envelope}
 */
export function parseEnvelope(buf) {
  const t = checkPacket(buf);
  if (t !== TYPE_ENVELOPE) throw new PacketError("type", `packet type ${t} where an envelope is expected`);
  const bodyLen = buf.byteLength - PREFIX - CRC_SIZE;
  if (bodyLen < ENVELOPE_HEADER) throw new PacketError("short", `envelope of ${bodyLen} bytes is shorter than its header`);
  const dv = new DataView(buf), b = PREFIX;
  const e = {
    seq: dv.getUint32(b, true), lastSeq: dv.getUint32(b + 4, true),
    tUs: dv.getUint32(b + 8, true) + dv.getUint32(b + 12, true) * 4294967296, rate: dv.getUint32(b + 16, true),
    samples: dv.getUint32(b + 20, true), n: dv.getUint32(b + 24, true), phase: dv.getUint32(b + 28, true),
    channels: dv.getUint8(b + 32), sampleType: dv.getUint8(b + 33), points: dv.getUint16(b + 34, true),
  };
  const st = SAMPLE_TYPES[e.sampleType];
  const frames = `envelope of frames ${e.seq}..${e.lastSeq}`;
  if (!st) throw new PacketError("sample_type", `${frames}: unknown sample type ${e.sampleType}`);
  if (e.n < 2 || (e.n & (e.n - 1)) !== 0) throw new PacketError("field", `${frames}: n ${e.n} is not a power of two from 2`);
  if (e.phase >= e.n) throw new PacketError("field", `${frames}: phase ${e.phase} not below n ${e.n}`);
  if ((e.lastSeq - e.seq + 0x100000000) % 0x100000000 >= 0x80000000) throw new PacketError("field", `${frames}: last_seq before seq`);
  if (e.points !== envelopePoints(e.phase, e.samples, e.n)) throw new PacketError("field", `${frames}: ${e.points} points, want ${envelopePoints(e.phase, e.samples, e.n)}`);
  if (e.channels === 0) throw new PacketError("length", `${frames}: 0 channels`);
  const count = e.points * e.channels * 2, off = PREFIX + ENVELOPE_HEADER;
  if (off + count * st[1] + CRC_SIZE !== buf.byteLength) {
    throw new PacketError("length", `${frames}: ${e.points} points x ${e.channels} channels of ${st[0]} do not fit ${buf.byteLength} bytes`);
  }
  return { ...e, values: samplesOf(buf, dv, off, count, e.sampleType) };
}
