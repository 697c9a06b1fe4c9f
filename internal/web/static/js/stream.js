// @ts-check
// The page's state without the DOM: what arrived on the WebSocket, decoded,
// counted and stored per channel. app.js wires it to the document; tests
// drive it directly (node --test) and read it in the browser as
// window.wsbridge (the State object).

import { checkPacket, parseData, parseEnvelope, parsePacket, PacketError, TYPE_DATA, TYPE_ENVELOPE } from "./packet.js";
import { EnvTrack, Track } from "./ring.js";
import { Gaps } from "./gaps.js";

/** The time windows the page offers, in seconds. */
export const WINDOWS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/**
 * A rate that moves by no more than this fraction keeps the plot as it is
 * (the new rate is followed, nothing is re-laid-out): text input estimates
 * its rate from line arrivals, and a sketch's delay() drifts.
 */
export const RATE_TOLERANCE = 0.05;

/**
 * The automatic window shows at least this many sample instants: enough
 * for a shape, few enough that a tone is a wave. 700 keeps the usual rates
 * (1, 8, 10, 16, 44.1, 48 kHz) well clear of a step, so a rate measured a
 * little off picks the same window.
 */
export const AUTO_SAMPLES = 700;

/**
 * A plot narrower than NARROW_PX CSS pixels (a phone) gets an automatic
 * window of at least AUTO_SAMPLES_NARROW instants instead: the waves of
 * the wide window on a third of the width would be a third as wide (a
 * 440 Hz tone at 8 kHz: 44 waves of 8 px in 100 ms, 22 of 16 px in 50 ms).
 * 250 is as clear of the usual rates' steps as 700.
 */
export const NARROW_PX = 600;
export const AUTO_SAMPLES_NARROW = 250;

/**
 * autoWindow is the window picked for a rate: the shortest that holds
 * AUTO_SAMPLES sample instants (a 440 Hz tone at 48 kHz shows as 9 waves
 * in 20 ms, not as a solid band in 1 s), or AUTO_SAMPLES_NARROW on a
 * narrow plot, at most 10 s.
 * @param {number} rate
 * @param {boolean} [narrow] the plot is narrower than NARROW_PX
 */
export function autoWindow(rate, narrow = false) {
  if (!(rate > 0)) return 1;
  const need = narrow ? AUTO_SAMPLES_NARROW : AUTO_SAMPLES;
  for (const w of WINDOWS) if (w * rate >= need) return w;
  return WINDOWS[WINDOWS.length - 1];
}

/**
 * resolution is the envelope level a view of windowS seconds at rate on
 * columns pixel columns asks serve for: the largest power of two not above
 * the sample instants per column (so each column is drawn from one or two
 * points), or 0 (every sample) below 8 per column, where envelopes would
 * save little. At most 65536.
 * @param {number} rate
 * @param {number} windowS
 * @param {number} columns
 */
export function resolution(rate, windowS, columns) {
  const spp = (rate * windowS) / Math.max(1, columns);
  if (!(spp >= 8)) return 0;
  return Math.min(65536, 2 ** Math.floor(Math.log2(spp)));
}

/** @typedef {import("./packet.js").Device} Device */

/**
 * The JSON messages serve sends (package wsproto, docs/protocol.md).
 * @typedef {{type: "hello", protocol?: number, server?: string, channel?: string, epoch?: string, format?: string,
 *   device_state?: string, device?: Device | null, rate?: number, channels?: number, sample_type?: string,
 *   seq: number, start_seq: number, commands?: boolean, envelope?: number}} Hello
 * @typedef {{type: "status", state: string, reason?: string, seq?: number, epoch?: string}} Status
 * @typedef {{type: "gap"} & import("./gaps.js").GapMessage} Gap
 * @typedef {{type: "info", device: Device}} Info
 * @typedef {{type: "log", text: string}} Log
 * @typedef {{type: "reply", ok: boolean, text: string}} Reply
 * @typedef {{type: "error", code: string, message: string}} ErrorMessage
 * @typedef {Hello | Status | Gap | Info | Log | Reply | ErrorMessage} Message
 */

/**
 * /api/info, the fields prefill reads.
 * @typedef {object} APIInfo
 * @property {number} [rate]
 * @property {number} [seq] the next live seq
 * @property {number} [uptime_s]
 * @property {Device | null} [device]
 * @property {{frames?: number, first_seq?: number, epoch?: string}} [history]
 * @property {Record<string, number>} [counters]
 */

/**
 * The page's live state; window.wsbridge is this object. The stream fills
 * the first group, the view (app.js) the second.
 * @typedef {import("./gaps.js").Counters & {
 *   state: string, deviceState: string, device: Device | null, commands: boolean,
 *   frames: number, samples: number, bytes: number, sps: number, badPackets: number, crcErrors: number,
 *   connects: number, rate: number, rateMeasured: boolean, channels: number, layouts: number, rateChanges: number,
 *   deviceLines: number,
 *   startSeq: number | null, liveSeq: number | null, envelope: number, envelopes: number, stopping: boolean,
 *   wsURL: string, ingestMs: number,
 *   tail: (ch: number, n: number) => number[],
 *   restartLog: () => {from: string, to: string, lastSeq: number | null, seq: number | null}[],
 *   drawn: number, drawMs: number, paused: boolean, view: string, windowS: number, windowAuto: boolean, narrow: boolean,
 *   traceColors: string[], background: string, ranges: [number, number][], axisLabels: [string, string][], blank: number[],
 *   peaks: (import("./fft.js").Peak | null)[], cursor: string,
 * }} State
 */

/** @returns {State} */
export function newState() {
  return {
    state: "connecting", deviceState: "", device: null, commands: false,
    frames: 0, samples: 0, bytes: 0, sps: 0, badPackets: 0, crcErrors: 0,
    gaps: 0, lostFrames: 0, gapsByReason: {}, restarts: 0, epoch: "", firstSeq: null, lastSeq: null,
    connects: 0, rate: 0, rateMeasured: false, channels: 0, startSeq: null, liveSeq: null,
    stopping: false, // serve said it is shutting down (until the next hello)
    envelope: 0, // the stream's resolution: 0 for every sample, N for envelopes of N instants per point
    envelopes: 0, // envelopes received
    layouts: 0, // times the tracks were made anew (the first rate and channel count, a new channel count)
    rateChanges: 0, // changes of the rate beyond RATE_TOLERANCE (the page's own estimate aside)
    deviceLines: 0, // device log lines received
    wsURL: "", // the WebSocket URL in use, token elided
    ingestMs: 0, // total time spent decoding and storing frames, ms
    tail: () => [],
    restartLog: () => [],
    // the view's
    drawn: 0, drawMs: 0, paused: false, view: "time", windowS: 1, windowAuto: true, narrow: false,
    traceColors: [], background: "", ranges: [], axisLabels: [], blank: [], peaks: [], cursor: "",
  };
}

/**
 * What the stream tells its view.
 * @typedef {object} Hooks
 * @property {(text: string, kind?: "info" | "error" | "device") => void} note a line for the message list
 * @property {() => void} layout the tracks were made anew (channel count or rate)
 * @property {() => void} changed anything shown changed (counters, device, samples)
 */

/**
 * @param {number} a
 * @param {number} b
 */
function near(a, b) {
  return b > 0 && Math.abs(a - b) <= RATE_TOLERANCE * b;
}

export class Stream {
  /** @param {Hooks} hooks */
  constructor(hooks) {
    this.S = newState();
    this.h = hooks;
    /** @type {(Track | EnvTrack)[]} one per channel, what the view draws: samples, or envelope points */
    this.tracks = [];
    /**
     * @type {(Track | EnvTrack)[]} what arriving samples go into: the tracks,
     * or while a window is fetched again at another resolution, new tracks
     * that replace them once it has arrived (so the plot does not blank)
     */
    this.incoming = this.tracks;
    this.lastTimeUs = 0; // device time of the newest stored sample
    this.pausedSamples = 0; // sample instants that arrived (or went missing) while paused
    /** @type {{t0: number, n0: number} | null} the first frame of a run without a rate (text input measuring it) */
    this.measuring = null;
    this.gaps = new Gaps(this.S, (n) => this.hole(n), (t, e) => hooks.note(t, e ? "error" : "info"));
    this.S.tail = (ch, n) => {
      const t = this.tracks[ch];
      return t ? Array.from(t.copy(t.total - n, t.total)) : [];
    };
    this.S.restartLog = () => this.gaps.history.slice();
  }

  /**
   * since is where a reconnect resumes: {seq, epoch}, or null for live.
   */
  since() {
    return this.gaps.since();
  }

  /**
   * binary takes one binary WebSocket message: a v1 packet.
   * @param {ArrayBuffer} buf
   */
  binary(buf) {
    const t0 = performance.now();
    this.ingest(buf);
    this.S.ingestMs += performance.now() - t0;
  }

  /** @param {ArrayBuffer} buf */
  ingest(buf) {
    const S = this.S;
    S.bytes += buf.byteLength;
    let f;
    try {
      const t = checkPacket(buf);
      if (t === TYPE_ENVELOPE) return this.envelope(parseEnvelope(buf));
      if (t !== TYPE_DATA) return this.packet(parsePacket(buf));
      f = parseData(buf);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      S.badPackets++;
      if (e.kind === "crc") S.crcErrors++;
      if (S.badPackets <= 5 || S.badPackets % 100 === 0) this.h.note(`bad packet #${S.badPackets}: ${e.message}`, "error");
      return;
    }
    if (f.rate) this.measuring = null;
    // A frame without a rate after serve announced one (it was on its way)
    // keeps that rate; before, the page measures its own.
    const known = f.rate || (S.rate && !S.rateMeasured ? S.rate : 0);
    this.adopt(known || this.measure(f.tUs), f.channels, !known);
    this.kind(0, f.rate);
    if (this.gaps.frame(f.seq, f.count)) {
      S.frames++;
      S.samples += f.count;
    }
    if (S.paused) {
      this.pausedSamples += f.count;
      return;
    }
    for (let c = 0; c < f.channels; c++) /** @type {Track} */ (this.incoming[c]).push(f.samples, c, f.channels, f.count);
    this.settle();
    this.lastTimeUs = f.tUs + (S.rate ? ((f.count - 1) * 1e6) / S.rate : 0);
    this.h.changed();
  }

  /**
   * envelope takes an envelope: frames seq..lastSeq as points of n.
   * @param {import("./packet.js").Envelope} e
   */
  envelope(e) {
    const S = this.S;
    const frames = ((e.lastSeq - e.seq + 0x100000000) % 0x100000000) + 1;
    const known = e.rate || (S.rate && !S.rateMeasured ? S.rate : 0);
    this.adopt(known || this.measure(e.tUs), e.channels, !known);
    this.kind(e.n, e.rate);
    const join = this.gaps.expect === e.seq;
    S.envelopes++;
    const fresh = this.gaps.frame(e.seq, e.samples / frames, e.lastSeq);
    S.frames += fresh;
    S.samples += Math.round((e.samples * fresh) / frames);
    if (S.paused) {
      this.pausedSamples += e.samples;
      return;
    }
    for (let c = 0; c < e.channels; c++) /** @type {EnvTrack} */ (this.incoming[c]).push(e, c, join);
    this.settle();
    if (S.rate) this.lastTimeUs = e.tUs + (e.samples ? ((e.samples - 1) * 1e6) / S.rate : 0);
    this.h.changed();
  }

  /**
   * kind makes the tracks hold what arrives: samples (n 0) or envelope
   * points of n. A change comes with a rewind (the window fetched again at
   * the new resolution), so the old tracks are replaced, not extended.
   * @param {number} n
   * @param {number} rate
   */
  kind(n, rate) {
    const t = this.incoming[0];
    if (!t || (n ? t instanceof EnvTrack && t.n === n : t instanceof Track)) return;
    const r = rate || this.S.rate;
    this.incoming = this.incoming.map(() => (n ? new EnvTrack(r, n) : new Track(r, this.S.channels)));
  }

  // settle shows the incoming tracks once the window fetched again has
  // arrived (no frame is being fetched again any more).
  settle() {
    if (this.incoming !== this.tracks && this.gaps.recount === null) {
      this.tracks = this.incoming;
      this.h.changed();
    }
  }

  /**
   * rewind prepares a connection that fetches frames again from seq (the
   * start of the window, at another resolution): they are stored, not
   * counted again. Returns where to resume, or null without a position.
   * @param {number} seq
   * @returns {{seq: number, epoch: string} | null}
   */
  rewind(seq) {
    this.gaps.rewind(seq);
    return this.since();
  }

  /**
   * windowStart is the seq of a frame far enough back to cover span
   * sample instants before the newest (from the average frame), or null.
   * @param {number} span
   */
  windowStart(span) {
    const S = this.S, since = this.since();
    if (!since || !S.frames) return null;
    const per = Math.max(1e-9, S.samples / S.frames);
    const back = Math.min(Math.ceil((1.2 * span) / per) + 1, 0x7fffffff);
    return (since.seq - back + 0x100000000) % 0x100000000;
  }

  /**
   * measure estimates the rate of frames that carry none (rate 0: text
   * input measures its rate over its first seconds) from their device
   * times, which are exact: the sample instants since the run's first
   * frame over the time since it, once that is 200 ms and 4 instants or
   * more. Returns 0 until then.
   * @param {number} tUs the device time of the frame's first sample
   */
  measure(tUs) {
    const S = this.S;
    if (!this.measuring || tUs < this.measuring.t0) this.measuring = { t0: tUs, n0: S.samples };
    const span = tUs - this.measuring.t0, n = S.samples - this.measuring.n0;
    return span >= 200000 && n >= 4 ? (n * 1e6) / span : 0;
  }

  /**
   * packet handles non-data packets, should serve ever send them as binary.
   * @param {import("./packet.js").Packet} p
   */
  packet(p) {
    if (p.type === "info") this.text({ type: "info", device: p });
    else if (p.type === "log") this.text({ type: "log", text: p.text });
    else if (p.type === "reply") this.text({ type: "reply", ok: p.ok, text: p.text });
  }

  /**
   * text takes one JSON message from serve.
   * @param {Message} m
   */
  text(m) {
    switch (m.type) {
      case "hello": return this.hello(m);
      case "status": return this.status(m);
      case "gap": return this.gaps.message(m);
      case "info": return this.setDevice(m.device);
      case "log":
        this.S.deviceLines++;
        return this.h.note(`device: ${m.text}`, "device");
      case "reply": return this.h.note(`reply (${m.ok ? "ok" : "error"}): ${m.text}`, m.ok ? "info" : "error");
      case "error": return this.h.note(`server: ${m.message} (${m.code})`, "error");
    }
    this.h.note(`unknown message type ${JSON.stringify(/** @type {{type: unknown}} */ (m).type)}`);
  }

  /** @param {Hello} m */
  hello(m) {
    const S = this.S;
    S.connects++;
    S.stopping = false;
    S.startSeq = m.start_seq; // the first seq of this connection
    S.liveSeq = m.seq; // serve's next live seq when it said hello: a start before it came from the history
    S.commands = !!m.commands;
    S.deviceState = m.device_state || "";
    if (m.device) this.setDevice(m.device);
    else if (m.rate && m.channels) this.adopt(m.rate, m.channels);
    this.gaps.hello(m);
    this.h.note(`connected to ${m.server || "wsbridge"}${m.epoch ? ", epoch " + m.epoch : ""}, ` +
      `${m.envelope ? `envelopes of ${m.envelope} instants` : `${m.format || "binary"} frames`} from seq ${m.start_seq}`);
    this.h.changed();
  }

  /** @param {Status} m */
  status(m) {
    if (m.state === "restart") this.gaps.restart(m.seq ?? null, m.epoch || "", m.reason || undefined);
    else if (m.state === "stopping") {
      this.S.stopping = true;
      const lost = this.gaps.stopping(m.seq ?? 0, m.epoch || "");
      this.h.note(`serve is shutting down${lost ? "" : ": every frame it held for this page arrived"}`, lost ? "error" : "info");
    } else {
      this.S.deviceState = m.state;
      this.h.note(`device ${m.state}${m.reason ? ": " + m.reason : ""}`, m.state === "down" ? "error" : "info");
    }
    this.h.changed();
  }

  /** @param {Device} d */
  setDevice(d) {
    this.S.device = d;
    if (!this.adopt(d.rate, d.channels)) this.h.layout(); // names and units
    this.h.changed();
  }

  /**
   * adopt follows a frame's or the device's rate and channel count. A new
   * channel count makes the tracks anew. A rate within RATE_TOLERANCE of
   * the one in use is followed without touching the plot; a bigger change
   * keeps the samples too (resized rings), breaks the trace where it
   * happened and is noted once, unless it replaces a rate the page only
   * measured (or none). A rate of 0 (not known yet) keeps the one in use.
   * Returns whether the view was told to lay out.
   * @param {number} rate
   * @param {number} channels
   * @param {boolean} [measured] the rate is the page's own estimate
   */
  adopt(rate, channels, measured = false) {
    const S = this.S;
    if (!channels) return false;
    const same = channels === S.channels && this.tracks.length > 0;
    if (same && (!rate || near(rate, S.rate))) {
      if (rate) [S.rate, S.rateMeasured] = [rate, measured];
      return false;
    }
    if (!same) {
      this.layout(rate || S.rate, channels);
      S.rateMeasured = measured;
      return true;
    }
    const was = S.rate, known = was && !S.rateMeasured && !measured;
    this.tracks = this.incoming = this.incoming.map((t) => t.resized(rate, channels));
    [S.rate, S.rateMeasured] = [rate, measured];
    if (known) {
      S.rateChanges++;
      this.hole(1);
      this.h.note(`rate changed from ${+was.toPrecision(6)} to ${+rate.toPrecision(6)} S/s`);
    }
    if (S.windowAuto) S.windowS = autoWindow(rate, S.narrow);
    this.h.layout();
    return true;
  }

  /**
   * layout makes one track per channel for a rate and channel count.
   * @param {number} rate
   * @param {number} channels
   */
  layout(rate, channels) {
    const S = this.S;
    S.rate = rate;
    S.channels = channels;
    S.layouts++;
    if (S.windowAuto) S.windowS = autoWindow(rate, S.narrow);
    this.tracks = this.incoming = Array.from({ length: channels }, () => new Track(rate, channels));
    this.measuring = null;
    this.h.layout();
  }

  /**
   * hole breaks the trace by n samples (a gap), keeping the time axis exact.
   * @param {number} n
   */
  hole(n) {
    if (this.S.paused) this.pausedSamples += n;
    else for (const t of this.incoming) t.hole(n);
  }

  /**
   * setPaused freezes the stored samples (frames are still counted); on
   * resume, what arrived meanwhile becomes a hole so times stay right.
   * @param {boolean} p
   */
  setPaused(p) {
    this.S.paused = p;
    if (!p) {
      this.hole(Math.max(1, this.pausedSamples));
      this.pausedSamples = 0;
    }
    this.h.changed();
  }

  /**
   * prefill picks where the first connection starts: far enough back in
   * serve's history (/api/info) to fill the current window at once, or
   * null for live. Frames per second come from serve's counters, as text
   * input sends frames of any size.
   * @param {APIInfo} info
   * @returns {{seq: number, epoch: string} | null}
   */
  prefill(info) {
    const S = this.S;
    const h = info.history || {}, d = info.device || null, c = info.counters || {};
    const rate = info.rate || (d && d.rate) || 0;
    if (S.windowAuto && rate) S.windowS = autoWindow(rate, S.narrow);
    const fps = c.frames_received_total && info.uptime_s ? c.frames_received_total / info.uptime_s : 0;
    const per = fps ? rate / fps : (d && d.frame_samples) || rate / 100;
    if (!h.frames || !rate || !(per > 0) || typeof info.seq !== "number" || typeof h.first_seq !== "number") return null;
    const held = (info.seq - h.first_seq + 0x100000000) % 0x100000000;
    const need = Math.min(held, Math.ceil((1.5 * S.windowS * rate) / per));
    return need > 0 ? { seq: (info.seq - need + 0x100000000) % 0x100000000, epoch: h.epoch || "" } : null;
  }
}
