// Decode wsbridge v1 data frames from WebSocket binary messages.
// Works in browsers and Node (>= 18). In a browser:
//   const ws = new WebSocket("ws://127.0.0.1:8080/ws"); ws.binaryType = "arraybuffer";
//   ws.onmessage = (e) => typeof e.data === "string" ? console.log(JSON.parse(e.data)) : console.log(decodeFrame(e.data));
// In Node: node frame.js --hex 01011c00...

const SAMPLE = { 1: ["u16", 2, "getUint16"], 2: ["i16", 2, "getInt16"], 3: ["i32", 4, "getInt32"], 4: ["f32", 4, "getFloat32"] };

function decodeFrame(buf) {
  const v = new DataView(buf);
  if (v.getUint8(0) !== 1 || v.getUint8(1) !== 1 || v.getUint16(2, true) + 8 !== buf.byteLength) {
    throw new Error("not a v1 data frame");
  }
  const channels = v.getUint8(20);
  const [name, size, get] = SAMPLE[v.getUint8(21)];
  const count = v.getUint16(22, true);
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

if (typeof module !== "undefined" && require.main === module && process.argv[2] === "--hex") {
  const b = Buffer.from(process.argv[3], "hex");
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  console.log(JSON.stringify(decodeFrame(ab)));
}
if (typeof module !== "undefined") module.exports = { decodeFrame };
