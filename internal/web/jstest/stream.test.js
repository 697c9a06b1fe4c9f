import { test } from "node:test";
import assert from "node:assert/strict";
import { autoWindow, Stream } from "../static/js/stream.js";
import { counter, data, envelope, packet } from "./packets.js";
import { EnvTrack, Track } from "../static/js/ring.js";

/** newStream returns a Stream whose hooks record what the view would do. */
function newStream() {
  const seen = { notes: /** @type {[string, string][]} */ ([]), layouts: 0, changed: 0 };
  const st = new Stream({
    note: (t, k = "info") => seen.notes.push([k, t]),
    layout: () => seen.layouts++,
    changed: () => seen.changed++,
  });
  return { st, S: st.S, seen };
}

/** @param {number} n */
const arrayBufferOf = (n) => new ArrayBuffer(n);

test("frames are counted and stored exactly, per channel", () => {
  const { st, S } = newStream();
  st.text({ type: "hello", epoch: "e1", seq: 0, start_seq: 0, rate: 8000, channels: 2 });
  for (let f = 0; f < 5; f++) st.binary(data({ seq: f, tUs: f * 1000, rate: 8000, channels: 2, samples: counter(f * 8, 8, 2) }));
  assert.equal(S.frames, 5);
  assert.equal(S.samples, 40);
  assert.equal(S.lastSeq, 4);
  assert.equal(S.epoch, "e1");
  assert.deepEqual(S.tail(0, 40), counter(0, 40));
  assert.deepEqual(S.tail(1, 3), [38, 39, 40]);
  assert.equal(st.lastTimeUs, 4000 + (7 * 1e6) / 8000);
  assert.equal(S.badPackets, 0);
});

test("a rate that wanders within 5% changes nothing; a real change keeps the samples and is noted once", () => {
  const { st, S, seen } = newStream();
  st.text({ type: "info", device: { name: "text input", firmware: "", rate: 0, channels: 2, sample_type: "i32", frame_samples: 64, channel_info: [] } });
  assert.equal(S.layouts, 1, "tracks are made for the channels");
  let seq = 0, v = 0;
  for (const rate of [1001, 1002, 1001, 998, 1002, 1020, 1001]) {
    st.binary(data({ seq: seq++, rate, channels: 2, sampleType: 3, samples: counter(v, 10, 2) }));
    v += 10;
  }
  assert.equal(S.layouts, 1, "the tracks were made once");
  assert.equal(S.rateChanges, 0);
  assert.equal(S.rate, 1001, "the newest rate is followed");
  assert.deepEqual(S.tail(0, 70), counter(0, 70), "nothing was thrown away");
  assert.equal(seen.notes.filter(([, t]) => t.includes("rate changed")).length, 0);
  for (let i = 0; i < 3; i++) st.binary(data({ seq: seq++, rate: 500, channels: 2, sampleType: 3, samples: counter(v + 10 * i, 10, 2) }));
  assert.equal(S.layouts, 1, "a new rate keeps the plot");
  assert.equal(S.rateChanges, 1);
  assert.equal(S.rate, 500);
  assert.deepEqual(S.tail(0, 101), [...counter(0, 70), NaN, ...counter(70, 30)], "every sample kept, the trace broken once where the rate changed");
  assert.deepEqual(seen.notes.filter(([, t]) => t.includes("rate changed")), [["info", "rate changed from 1001 to 500 S/s"]]);
  st.binary(data({ seq: seq++, rate: 500, channels: 3, sampleType: 3, samples: counter(v, 10, 3) }));
  assert.equal(S.layouts, 2, "a new channel count lays out anew");
  assert.equal(S.channels, 3);
});

test("frames without a rate (text input measuring it) are plotted at a rate measured from their device times", () => {
  const { st, S } = newStream();
  st.text({ type: "hello", seq: 0, start_seq: 0, rate: 0, channels: 2,
    device: { name: "text input", firmware: "", rate: 0, channels: 2, sample_type: "i32", frame_samples: 64, channel_info: [] } });
  let seq = 0, v = 0, t = 5e6;
  const line = (/** @type {number} */ rate, /** @type {number} */ dt) => {
    st.binary(data({ seq: seq++, tUs: Math.round(t), rate, channels: 2, sampleType: 3, samples: counter(v++, 1, 2) }));
    t += dt;
  };
  for (let i = 0; i < 150; i++) line(0, 1000 + (i % 3) * 40); // a delay(1) sketch with jitter
  assert.equal(S.rate, 0, "no estimate before 200 ms");
  for (let i = 0; i < 350; i++) line(0, 1000 + (i % 3) * 40);
  assert.ok(S.rateMeasured && Math.abs(S.rate - 1e6 / 1040) < 5, `measured ${S.rate} S/s, want about ${1e6 / 1040}`);
  st.text({ type: "info", device: { name: "text input", firmware: "", rate: 961, channels: 2, sample_type: "i32", frame_samples: 64, channel_info: [] } });
  line(0, 10000); // a frame that was on its way, then a burst: no estimate any more
  for (let i = 0; i < 30; i++) line(0, 10);
  assert.equal(S.rate, 961, "serve's rate holds for frames without one");
  for (let i = 0; i < 69; i++) line(961, 1040);
  assert.equal(S.rate, 961);
  assert.equal(S.rateMeasured, false);
  assert.equal(S.layouts, 1, "one layout from the first info to the announced rate");
  assert.equal(S.windowS, 1, "the automatic window follows the measured rate");
  assert.deepEqual(S.tail(0, 600), counter(0, 600), "every sample kept");
  assert.ok(Math.abs(st.lastTimeUs - (t - 1040)) < 1, "the newest sample's time is its line's arrival");
});

test("the automatic window holds at least 700 sample instants", () => {
  assert.deepEqual([48000, 44100, 16000, 10000, 8000, 1000, 100, 10, 1e6, 0].map((r) => autoWindow(r)),
    [0.02, 0.02, 0.05, 0.1, 0.1, 1, 10, 10, 0.01, 1]);
  // on a narrow plot (a phone), at least 250
  assert.deepEqual([48000, 44100, 16000, 10000, 8000, 1000, 100, 10, 1e6, 0].map((r) => autoWindow(r, true)),
    [0.01, 0.01, 0.02, 0.05, 0.05, 0.5, 5, 10, 0.01, 1]);
  for (const r of [100, 1000, 8000, 10000, 16000, 44100, 48000]) {
    for (const narrow of [false, true]) {
      assert.equal(autoWindow(r * 0.95, narrow), autoWindow(r, narrow), `${r} S/s measured 5% low${narrow ? ", narrow" : ""}`);
      assert.equal(autoWindow(r * 1.05, narrow), autoWindow(r, narrow), `${r} S/s measured 5% high${narrow ? ", narrow" : ""}`);
    }
  }
  const { st, S } = newStream();
  st.binary(data({ seq: 0, rate: 48000, samples: [1, 2] }));
  assert.equal(S.windowS, 0.02);
  S.windowAuto = false;
  S.windowS = 2;
  st.binary(data({ seq: 1, rate: 100, samples: [1, 2] }));
  assert.equal(S.windowS, 2, "a window the user chose stays");
});

test("prefill asks serve's history for enough frames to fill the window", () => {
  const { st, S } = newStream();
  const info = {
    rate: 1000, seq: 5000, uptime_s: 10, device: null, history: { frames: 5000, first_seq: 0, epoch: "ab12cd34" },
    counters: { frames_received_total: 5000 },
  };
  // 500 frames/s of 2 instants: a 1 s window needs 500 frames, asked with half again as margin.
  assert.deepEqual(st.prefill(info), { seq: 5000 - 750, epoch: "ab12cd34" });
  assert.equal(S.windowS, 1);
  assert.deepEqual(st.prefill({ ...info, history: { frames: 100, first_seq: 4900, epoch: "ab12cd34" } }), { seq: 4900, epoch: "ab12cd34" },
    "no further back than serve holds");
  assert.equal(st.prefill({ ...info, history: { frames: 0 } }), null, "an empty history: live");
});

test("pause keeps counting but stores nothing; resume leaves a hole as long as the pause", () => {
  const { st, S } = newStream();
  st.binary(data({ seq: 0, rate: 1000, samples: [1, 2, 3] }));
  st.setPaused(true);
  st.binary(data({ seq: 1, rate: 1000, samples: [4, 5, 6] }));
  assert.equal(S.frames, 2);
  assert.deepEqual(S.tail(0, 3), [1, 2, 3]);
  st.setPaused(false);
  st.binary(data({ seq: 2, rate: 1000, samples: [7] }));
  assert.deepEqual(S.tail(0, 7), [1, 2, 3, NaN, NaN, NaN, 7]);
});

test("serve's restart of its count reaches the counters and the log", () => {
  const { st, S, seen } = newStream();
  st.text({ type: "hello", epoch: "aaaa0001", seq: 0, start_seq: 0, rate: 100, channels: 1 });
  for (let f = 0; f < 3; f++) st.binary(data({ seq: f, rate: 100, samples: [f] }));
  assert.deepEqual(st.since(), { seq: 3, epoch: "aaaa0001" });
  st.text({ type: "hello", epoch: "bbbb0002", seq: 9, start_seq: 0, rate: 100, channels: 1 });
  st.text({ type: "status", state: "restart", seq: 0, epoch: "bbbb0002" });
  st.binary(data({ seq: 0, rate: 100, samples: [0] }));
  assert.equal(S.restarts, 1);
  assert.equal(S.epoch, "bbbb0002");
  assert.equal(S.lostFrames, 0);
  assert.deepEqual(S.restartLog(), [{ from: "aaaa0001", to: "bbbb0002", lastSeq: 2, seq: 0 }]);
  assert.ok(seen.notes.some(([, t]) => t.includes("epoch aaaa0001 ended at seq 2, epoch bbbb0002")), JSON.stringify(seen.notes));
});

test("device log lines are shown as device output", () => {
  const { st, S, seen } = newStream();
  st.text({ type: "log", text: "boot ok" });
  st.binary(packet(3, new TextEncoder().encode("sensor warming up")));
  assert.equal(S.deviceLines, 2);
  assert.deepEqual(seen.notes, [["device", "device: boot ok"], ["device", "device: sensor warming up"]]);
});

test("damaged packets are counted and never stored", () => {
  const { st, S, seen } = newStream();
  const good = data({ seq: 0, rate: 100, samples: [1, 2] });
  const flipped = good.slice(0);
  new Uint8Array(flipped)[24] ^= 1;
  st.binary(flipped);
  st.binary(good.slice(0, good.byteLength - 1));
  st.binary(arrayBufferOf(3));
  assert.equal(S.badPackets, 3);
  assert.equal(S.crcErrors, 1);
  assert.equal(S.frames, 0);
  assert.equal(seen.notes.filter(([k]) => k === "error").length, 3);
});

test("device info names the channels; an unchanged layout keeps the tracks", () => {
  const { st, S, seen } = newStream();
  st.binary(data({ seq: 0, rate: 100, channels: 2, samples: [1, 2] }));
  const before = seen.layouts;
  st.text({ type: "info", device: { name: "sketch", firmware: "", rate: 100, channels: 2, sample_type: "i32", frame_samples: 1,
    channel_info: [{ name: "mic", unit: "" }, { name: "vbat", unit: "mV" }] } });
  assert.equal(S.layouts, 1, "names alone make no new tracks");
  assert.equal(seen.layouts, before + 1, "but the view relabels");
  assert.equal(S.device && S.device.channel_info[1].name, "vbat");
});

test("switching to envelopes fetches the window again without counting it twice, and back", () => {
  const { st, S } = newStream();
  st.text({ type: "hello", epoch: "e1", seq: 0, start_seq: 0, rate: 1000, channels: 1 });
  for (let f = 0; f < 10; f++) st.binary(data({ seq: f, tUs: f * 10000, rate: 1000, samples: counter(f * 10, 10) }));
  assert.deepEqual([S.frames, S.samples], [10, 100]);
  const from = st.windowStart(50);
  assert.equal(from, 10 - 7, "50 instants back at 10 per frame, with a margin");
  assert.deepEqual(st.rewind(/** @type {number} */ (from)), { seq: 3, epoch: "e1" });
  S.envelope = 8;
  st.text({ type: "hello", epoch: "e1", seq: 10, start_seq: 3, rate: 1000, channels: 1 });
  // Frames 3..12 as two envelopes of 8 per point; 10..12 are new.
  st.binary(envelope({ seq: 3, lastSeq: 7, rate: 1000, n: 8, samples: counter(30, 50) }));
  st.binary(envelope({ seq: 8, lastSeq: 12, rate: 1000, n: 8, phase: 2, samples: counter(80, 50) }));
  assert.ok(st.tracks[0] instanceof EnvTrack, "envelope points replace the samples");
  assert.deepEqual([S.frames, S.samples, S.lastSeq, S.restarts, S.lostFrames, S.envelopes], [13, 130, 12, 0, 0, 2]);
  assert.deepEqual(st.tracks[0].range(0, 100, [0, 0]), [30, 129], "the points cover the window");
  st.rewind(/** @type {number} */ (st.windowStart(20)));
  st.binary(data({ seq: 10, rate: 1000, samples: counter(100, 10) }));
  assert.ok(st.tracks[0] instanceof EnvTrack, "the points are drawn until the window has arrived again");
  st.binary(data({ seq: 11, rate: 1000, samples: counter(110, 10) }));
  st.binary(data({ seq: 12, rate: 1000, samples: counter(120, 10) }));
  assert.ok(st.tracks[0] instanceof Track, "then samples again");
  assert.deepEqual(S.tail(0, 30), counter(100, 30));
  st.binary(data({ seq: 13, rate: 1000, samples: counter(130, 10) }));
  assert.deepEqual(S.frames, 14);
});
