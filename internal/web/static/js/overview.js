// @ts-check
// The overview: every channel of serve as a card with its state, rate,
// clients, device gaps and a live trace of its first channel, from
// /api/channels once a second and from each channel's own stream at the
// resolution a small trace needs.

import { fetchJSON } from "./conn.js";
import { Chan } from "./chan.js";
import { resolution } from "./stream.js";
import { drawSpark } from "./plot.js";
import { Scale } from "./scale.js";
import { $, fmtCount, fmtRate } from "./ui.js";

/** The cards' traces show this much, in seconds. */
export const SPARK_WINDOW_S = 5;

/**
 * One channel in /api/channels.
 * @typedef {{name: string, device_state: string, device_reason?: string, device: import("./packet.js").Device | null,
 *   rate: number, channels: number, sample_type: string, clients: number, epoch: string, seq: number,
 *   counters: Record<string, number>}} Summary
 */

/**
 * @typedef {{chan: Chan, el: HTMLElement, canvas: HTMLCanvasElement, scale: Scale, drawn: number, summary: Summary | null}} Card
 */

/**
 * A card's figures, for tests (window.wsbridgeView.cards).
 * @typedef {{name: string, state: string, rate: string, clients: number, gaps: number, samples: number, envelope: number, drawn: number}} CardState
 */

/** @param {Summary} s */
function gapsOf(s) {
  return (s.counters || {}).device_gaps_total || 0;
}

export class Overview {
  /**
   * @param {{note: (t: string, k?: "info" | "error" | "device") => void, colors: () => import("./plot.js").Colors,
   *   refused: () => void, connected: (ok: boolean) => void}} h
   * @param {CardState[]} cards receives the cards' figures
   */
  constructor(h, cards) {
    this.h = h;
    this.states = cards;
    /** @type {Map<string, Card>} */
    this.cards = new Map();
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.poll = undefined;
    this.dirty = true;
  }

  /**
   * show shows the overview of the channels listed, and keeps it current.
   * @param {Summary[]} list
   */
  show(list) {
    if (this.poll === undefined) this.poll = setInterval(() => this.refresh(), 1000);
    this.update(list);
  }

  // close ends every card's stream and the polling.
  close() {
    clearInterval(this.poll);
    this.poll = undefined;
    for (const c of this.cards.values()) {
      c.chan.close();
      c.el.remove();
    }
    this.cards.clear();
    this.states.length = 0;
  }

  // retry reconnects every card's stream now (Retry now, a new token).
  retry() {
    for (const c of this.cards.values()) c.chan.conn.retryToken();
  }

  async refresh() {
    const r = await fetchJSON("/api/channels");
    if (this.poll === undefined) return;
    if (r.status === 401) return this.h.refused();
    this.h.connected(r.status === 200 && !!r.body);
    if (r.status === 200 && r.body) this.update(r.body.channels || []);
  }

  /**
   * update makes, updates and removes the cards for the channels listed.
   * @param {Summary[]} list
   */
  update(list) {
    this.h.connected(true);
    const grid = $("cards");
    for (const [name, card] of this.cards) {
      if (list.some((s) => s.name === name)) continue;
      card.chan.close();
      card.el.remove();
      this.cards.delete(name);
    }
    for (const s of list) {
      let card = this.cards.get(s.name);
      if (!card) {
        card = this.card(s.name);
        this.cards.set(s.name, card);
        grid.append(card.el);
        card.chan.conn.connect();
      }
      card.summary = s;
      this.fill(card);
    }
    $("overview-empty").hidden = list.length > 0;
    this.states.length = 0;
    for (const c of this.cards.values()) {
      const s = /** @type {Summary} */ (c.summary);
      this.states.push({
        name: c.chan.name, state: s.device_state, rate: this.text(c, "rate"), clients: s.clients, gaps: gapsOf(s),
        samples: c.chan.S.samples, envelope: c.chan.S.envelope, drawn: c.drawn,
      });
    }
  }

  /**
   * card makes the card of a channel, with its own stream.
   * @param {string} name
   * @returns {Card}
   */
  card(name) {
    const e = document.createElement("article");
    e.className = "card";
    e.dataset.name = name;
    e.innerHTML = `<header><label class="pick"><input type="checkbox"><span class="sr">plot together</span></label>
        <h3><a></a></h3><span class="state" data-k="state"></span></header>
      <canvas class="spark" role="img"></canvas>
      <dl><div><dt>Rate</dt><dd data-k="rate"></dd></div><div><dt>Clients</dt><dd data-k="clients"></dd></div>
        <div><dt>Gaps</dt><dd data-k="gaps"></dd></div><div><dt>Device</dt><dd data-k="device"></dd></div></dl>`;
    const a = /** @type {HTMLAnchorElement} */ (e.querySelector("h3 a"));
    a.href = `#${encodeURIComponent(name)}`;
    a.textContent = name;
    const box = /** @type {HTMLInputElement} */ (e.querySelector(".pick input"));
    box.value = name;
    box.setAttribute("aria-label", `plot ${name} together with others`);
    const cv = /** @type {HTMLCanvasElement} */ (e.querySelector("canvas"));
    cv.setAttribute("aria-label", `live trace of ${name}`);
    const chan = new Chan(name, {
      layout: () => (this.dirty = true), changed: () => (this.dirty = true), state: () => {},
      note: (t, k) => (k === "error" ? this.h.note(`${name}: ${t}`, k) : undefined),
      prefill: (_c, info) => resolution(info.rate || 0, SPARK_WINDOW_S, cv.width || 240),
    });
    chan.S.windowS = SPARK_WINDOW_S;
    chan.S.windowAuto = false;
    return { el: e, canvas: cv, scale: new Scale(), drawn: 0, summary: null, chan };
  }

  /**
   * @param {Card} c
   * @param {string} k
   */
  text(c, k) {
    const v = c.el.querySelector(`[data-k="${k}"]`);
    return v ? v.textContent || "" : "";
  }

  /**
   * fill writes a card's figures from its summary.
   * @param {Card} c
   */
  fill(c) {
    const s = /** @type {Summary} */ (c.summary), set = (/** @type {string} */ k, /** @type {string} */ v) => {
      const e = /** @type {HTMLElement} */ (c.el.querySelector(`[data-k="${k}"]`));
      if (e.textContent !== v) e.textContent = v;
      return e;
    };
    const st = set("state", s.device_state || "–");
    st.className = `state ${s.device_state === "down" ? "bad" : s.device_state === "up" ? "good" : ""}`;
    st.title = s.device_reason || "";
    const rate = s.rate || (c.chan.S.rate && c.chan.S.rateMeasured ? c.chan.S.rate : 0);
    set("rate", rate ? `${fmtRate(rate)} × ${s.channels} ch ${s.sample_type}` : s.channels ? `measuring… × ${s.channels} ch` : "–");
    set("clients", fmtCount(s.clients));
    set("gaps", fmtCount(gapsOf(s))).className = gapsOf(s) ? "bad" : "";
    set("device", s.device ? `${s.device.name || "unnamed"}${s.device.firmware ? " · fw " + s.device.firmware : ""}` : "–");
  }

  // draw draws the live trace of every card, when something changed, and
  // asks each stream for the resolution its trace needs.
  draw() {
    if (!this.dirty) return;
    this.dirty = false;
    const dpr = window.devicePixelRatio || 1, colors = this.h.colors();
    for (const c of this.cards.values()) {
      const cv = c.canvas, w = Math.max(1, Math.round(cv.clientWidth * dpr)), h = Math.max(1, Math.round(cv.clientHeight * dpr));
      if (cv.width !== w || cv.height !== h) [cv.width, cv.height] = [w, h];
      const cx = /** @type {CanvasRenderingContext2D} */ (cv.getContext("2d", { alpha: false }));
      const tr = c.chan.stream.tracks[0], rate = c.chan.S.rate;
      if (!tr || !rate) {
        cx.fillStyle = colors.bg;
        cx.fillRect(0, 0, w, h);
        continue;
      }
      drawSpark(cx, cv, tr, rate, SPARK_WINDOW_S, c.scale, colors, colors.traces[0]);
      c.drawn++;
      c.chan.want(resolution(rate, SPARK_WINDOW_S, w), SPARK_WINDOW_S * rate);
    }
    for (const v of this.states) {
      const c = this.cards.get(v.name);
      if (c) [v.drawn, v.samples, v.envelope] = [c.drawn, c.chan.S.samples, c.chan.S.envelope];
    }
  }
}
