// @ts-check
// A channel of serve shown on the page: its Stream (the state), its
// Connection (/ws/NAME) and the scales of its lanes, with the resolution
// the view wants (envelopes or every sample).

import { Connection } from "./conn.js";
import { Stream } from "./stream.js";

const RETUNE_MS = 300; // a wanted change of resolution waits this long for the next one

/**
 * Chan is one channel of serve shown on the page: its stream, its
 * connection, and the scales of its lanes.
 */
export class Chan {
  /**
   * @param {string} name
   * @param {{layout: () => void, changed: () => void, state: (s: string, d: any) => void, note: (t: string, k?: "info" | "error" | "device") => void,
   *   prefill: (c: Chan, info: import("./stream.js").APIInfo) => number}} h
   */
  constructor(name, h) {
    this.name = name;
    this.stream = new Stream({ note: h.note, layout: h.layout, changed: h.changed });
    this.S = this.stream.S;
    /** @type {import("./scale.js").Scale[]} */
    this.scales = [];
    this.hold = false; // a CSV download needs every sample: the resolution stays
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retune = undefined;
    this.conn = new Connection({
      state: (s, d) => {
        this.S.state = s;
        h.state(s, d);
      },
      binary: (buf) => this.stream.binary(buf),
      text: (m) => this.stream.text(m),
      note: (t) => h.note(t),
      since: () => this.stream.since(),
      prefill: (info) => {
        const since = this.stream.prefill(info);
        this.conn.envelope = this.S.envelope = h.prefill(this, info);
        return since;
      },
      opening: (url) => (this.S.wsURL = url),
    }, name);
  }

  /**
   * want asks for envelopes of n (0: every sample), fetching span sample
   * instants back again at the new resolution. A change waits RETUNE_MS,
   * so that a resize or a run of key presses reconnects once.
   * @param {number} n
   * @param {number} span
   * @param {boolean} [now]
   */
  want(n, span, now = false) {
    clearTimeout(this.retune);
    if (n === this.conn.envelope || (this.hold && n)) return;
    const go = () => {
      if (n === this.conn.envelope) return;
      const from = this.stream.windowStart(span);
      if (from !== null) this.stream.rewind(from);
      this.conn.envelope = this.S.envelope = n;
      if (this.conn.everConnected) this.conn.reopen();
    };
    if (now) go();
    else this.retune = setTimeout(go, RETUNE_MS);
  }

  close() {
    clearTimeout(this.retune);
    this.conn.close();
  }
}
