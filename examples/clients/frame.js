// Decode wsbridge v1 data frames from WebSocket binary messages.
// Works in browsers and Node (>= 18). In a browser:
//   const ws = new WebSocket("ws://127.0.0.1:8080/ws"); ws.binaryType = "arraybuffer";
//   ws.onmessage = (e) => typeof e.data === "string" ? console.log(JSON.parse(e.data)) : console.log(decodeFrame(e.data));
// In Node: node frame.js --hex 01011c00...  (or --hex - < packets.txt: one packet in hex per line)
//
// A packet the decoder refuses throws a FrameError; its kind names the fault
// as internal/frame/frametest/golden.json does: short, too_large, version,
// length, crc, type, sample_type.

const SAMPLE = { 1: ["u16", 2, "getUint16"], 2: ["i16", 2, "getInt16"], 3: ["i32", 4, "getInt32"], 4: ["f32", 4, "getFloat32"] };
const MAX_PACKET = 65536; // prefix (4) + body + CRC-32C (4)
const DATA_HEADER = 20;

class FrameError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});

// crc32c is the CRC-32C (Castagnoli) of the bytes, as the packet trailer carries it.
function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// checkPacket checks size, version, length field and CRC and returns the packet type.
function checkPacket(buf) {
  const n = buf.byteLength;
  if (n < 8) throw new FrameError("short", `packet of ${n} bytes`);
  if (n > MAX_PACKET) throw new FrameError("too_large", `packet of ${n} bytes, at most ${MAX_PACKET}`);
  const v = new DataView(buf);
  if (v.getUint8(0) !== 1) throw new FrameError("version", `version ${v.getUint8(0)}, want 1`);
  if (v.getUint16(2, true) + 8 !== n) throw new FrameError("length", `length field ${v.getUint16(2, true)}, packet ${n} bytes`);
  if (crc32c(new Uint8Array(buf, 0, n - 4)) !== v.getUint32(n - 4, true)) throw new FrameError("crc", "CRC-32C mismatch");
  const type = v.getUint8(1);
  if (type < 1 || type > 4) throw new FrameError("type", `unknown packet type 0x${type.toString(16).padStart(2, "0")}`);
  return type;
}

function decodeFrame(buf) {
  if (checkPacket(buf) !== 1) throw new FrameError("type", "not a data frame");
  const v = new DataView(buf);
  if (buf.byteLength - 8 < DATA_HEADER) throw new FrameError("short", `data body of ${buf.byteLength - 8} bytes`);
  const channels = v.getUint8(20);
  const st = SAMPLE[v.getUint8(21)];
  if (!st) throw new FrameError("sample_type", `unknown sample type ${v.getUint8(21)}`);
  const [name, size, get] = st;
  const count = v.getUint16(22, true);
  const payload = buf.byteLength - 8 - DATA_HEADER;
  if (channels === 0 || payload !== count * channels * size) {
    throw new FrameError("length", `${channels} channels x ${count} ${name} samples in ${payload} bytes`);
  }
  const samples = Array.from({ length: channels }, () => new Array(count));
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      samples[c][i] = v[get](24 + (i * channels + c) * size, true);
    }
  }
  return {
    seq: v.getUint32(4, true),
    t_dev_us: Number(v.getBigUint64(8, true)),
    rate: v.getUint32(16, true),
    sample_type: name,
    samples,
  };
}

// printHex decodes one packet given in hex and prints it as JSON, or the error.
function printHex(h) {
  const b = Buffer.from(h, "hex");
  try {
    console.log(JSON.stringify(decodeFrame(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))));
    return true;
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    console.log(`error ${e.message}`);
    return false;
  }
}

if (typeof module !== "undefined" && require.main === module && process.argv[2] === "--hex") {
  const lines = process.argv[3] === "-" ? require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim()) : [process.argv[3]];
  const ok = lines.map((h) => printHex(h.trim()));
  process.exitCode = ok.every(Boolean) ? 0 : 1;
}
if (typeof module !== "undefined") module.exports = { decodeFrame, checkPacket, crc32c, FrameError };
