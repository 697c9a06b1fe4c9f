// @ts-check
// The record button of a channel's view: it drives serve's own recorder
// (serve --record-dir DIR; POST and DELETE /api/channels/NAME/record), so
// the files land on the server, in DIR, complete and with their sidecars,
// as `wsbridge record` writes them. The page shows the elapsed time, the
// samples and gaps so far, and when it stops the files by name with links
// to download them (GET /api/recordings/files/FILE). Without --record-dir
// the button is disabled and says how to enable it. The page's "Download
// CSV" stays for quick grabs of the visible window.
//
// The DOM-free part (parseLabels, progressText) is tested in Node;
// window.wsbridgeRecorder is the recorder's state, for tests.

import { token } from "./conn.js";

/**
 * A recording as serve's API shows it (internal/recordings.Recording).
 * @typedef {{name: string, sidecar: string, open: boolean, bytes: number, url: string, sidecar_url: string}} RecFile
 * @typedef {{id: string, channel: string, state: string, started_at: string, elapsed_s: number,
 *   labels: Record<string, string>, dir: string, files: RecFile[], frames: number, samples: number, gaps: number,
 *   lost_frames: number, restarts: number, ended_by?: string, error?: string}} Recording
 */

/**
 * What tests read as window.wsbridgeRecorder.
 * @typedef {{channel: string, enabled: boolean, state: string, id: string, samples: number, gaps: number,
 *   files: string[], dir: string, error: string, text: string}} TestState
 */

const LABEL_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const BUSY_MS = 500; // polling while a recording runs
const IDLE_MS = 3000; // polling otherwise: a recording started elsewhere shows up

/**
 * parseLabels reads what the user typed: key=value pairs separated by
 * spaces or commas. Returns the pairs, or an error naming the bad one.
 * @param {string} text
 * @returns {{labels: string[], error: string}}
 */
export function parseLabels(text) {
  /** @type {string[]} */
  const labels = [];
  const seen = new Set();
  for (const kv of text.split(/[\s,]+/).filter(Boolean)) {
    const i = kv.indexOf("=");
    const k = i < 0 ? kv : kv.slice(0, i);
    if (i < 0 || !LABEL_KEY.test(k)) {
      return { labels: [], error: `label "${kv}": want key=value, the key of letters, digits, _ . or -` };
    }
    if (seen.has(k)) return { labels: [], error: `label "${kv}": key "${k}" is given twice` };
    seen.add(k);
    labels.push(kv);
  }
  return { labels, error: "" };
}

/**
 * fmtElapsed is m:ss (h:mm:ss from an hour).
 * @param {number} s seconds
 */
export function fmtElapsed(s) {
  const t = Math.max(0, Math.floor(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/**
 * progressText says how a recording stands: "● REC 0:12 · 192,000 samples
 * · 0 gaps", or for a finished one what it came to.
 * @param {Recording} r
 * @param {number} elapsed seconds
 */
export function progressText(r, elapsed) {
  const n = (/** @type {number} */ x) => x.toLocaleString("en-US");
  const gaps = `${n(r.gaps)} gap${r.gaps === 1 ? "" : "s"}${r.lost_frames ? ` (${n(r.lost_frames)} frames lost)` : ""}`;
  const counts = `${n(r.samples)} samples · ${gaps}`;
  switch (r.state) {
    case "recording": return `● REC ${fmtElapsed(elapsed)} · ${counts}`;
    case "stopping": return `Stopping… ${fmtElapsed(elapsed)} · ${counts}`;
    case "failed": return `Recording failed after ${fmtElapsed(elapsed)}: ${r.error || "unknown error"} · ${counts}`;
  }
  const why = { duration: "its duration reached", shutdown: "serve stopped", stop: "stopped" }[r.ended_by || "stop"] || r.ended_by;
  return `Recorded ${fmtElapsed(elapsed)} (${why}) · ${counts} · ${r.files.length} file${r.files.length === 1 ? "" : "s"} in ${r.dir}`;
}

/**
 * api calls serve's recorder with the tab's token: {status, body} (body
 * the JSON answer, errors included; status 0 when serve cannot be reached).
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<{status: number, body: any}>}
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = {};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body) headers["Content-Type"] = "application/json";
  try {
    const r = await fetch(path, { method, headers, cache: "no-store", body: body ? JSON.stringify(body) : undefined });
    let b = null;
    try {
      b = await r.json();
    } catch {
      b = null;
    }
    return { status: r.status, body: b };
  } catch {
    return { status: 0, body: null };
  }
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function $(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing`);
  return e;
}

/**
 * Recorder is the record section (#recorder) of a channel's view. show()
 * points it at a channel (or hides it); it polls serve for the channel's
 * recording while shown.
 */
export class Recorder {
  /** @param {{note: (text: string, kind?: "info" | "error" | "device") => void}} h */
  constructor(h) {
    this.h = h;
    this.channel = "";
    /** @type {Recording | null} the channel's newest recording */
    this.rec = null;
    this.enabled = false;
    this.polledAt = 0; // performance.now() of the last answer, for the elapsed time between polls
    this.busy = false; // a start or stop is on its way
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.tick = setInterval(() => this.showProgress(), 250);
    this.gen = 0; // bumped by show(): answers for another channel are dropped
    /** @type {TestState} */
    this.T = { channel: "", enabled: false, state: "", id: "", samples: 0, gaps: 0, files: [], dir: "", error: "", text: "" };
    /** @type {Window & {wsbridgeRecorder?: TestState}} */ (window).wsbridgeRecorder = this.T;
    $("rec-form").onsubmit = (e) => {
      e.preventDefault();
      this.toggle();
    };
  }

  /**
   * show points the section at channel name, or hides it (null: the
   * overview, or several channels on one axis).
   * @param {string | null} name
   */
  show(name) {
    clearTimeout(this.timer);
    this.gen++;
    this.channel = this.T.channel = name || "";
    this.rec = null;
    this.T.state = this.T.id = this.T.error = "";
    this.enabled = this.T.enabled = false;
    // Laid out at once, disabled until serve answers: a section that
    // appeared later would push what is below it, and the browser's scroll
    // anchoring would then move the controls above it under the pointer.
    $("recorder").hidden = !name;
    $("rec-why").hidden = false;
    $("rec-why").textContent = "Asking serve whether it records…";
    $("rec-files").replaceChildren();
    $("rec-status").textContent = "";
    this.showButton();
    if (name) this.poll();
  }

  // poll asks serve for the channel's newest recording, and again later.
  async poll() {
    const gen = this.gen;
    const r = await api("GET", `/api/recordings?channel=${encodeURIComponent(this.channel)}`);
    if (gen !== this.gen) return;
    if (r.status === 404) { // a serve without a recorder: no section, no more asking
      $("recorder").hidden = true;
      return;
    }
    this.schedule();
    if (r.status !== 200 || !r.body) return; // 401: the page asks for the token; 0: serve unreachable
    $("recorder").hidden = false;
    this.enabled = this.T.enabled = !!r.body.enabled;
    $("rec-why").hidden = this.enabled;
    $("rec-why").textContent = this.enabled ? "" : r.body.why || "Recording on the server is off.";
    if (this.enabled) $("rec-dir").textContent = r.body.dir;
    if (!this.busy) this.take(r.body.recordings && r.body.recordings[0] || null);
  }

  // schedule polls again later: soon while a recording runs.
  schedule() {
    this.timer = setTimeout(() => this.poll(), this.running() ? BUSY_MS : IDLE_MS);
  }

  running() {
    return !!this.rec && (this.rec.state === "recording" || this.rec.state === "stopping");
  }

  /**
   * take shows a recording the server reported.
   * @param {Recording | null} rec
   */
  take(rec) {
    const was = this.rec;
    this.rec = rec;
    this.polledAt = performance.now();
    const T = this.T;
    T.state = rec ? rec.state : "";
    T.id = rec ? rec.id : "";
    T.samples = rec ? rec.samples : 0;
    T.gaps = rec ? rec.gaps : 0;
    T.files = rec ? rec.files.map((f) => f.name) : [];
    T.dir = rec ? rec.dir : "";
    if (rec && (!was || was.id !== rec.id || was.files.length !== rec.files.length || was.state !== rec.state)) this.showFiles();
    if (!rec) $("rec-files").replaceChildren();
    this.showButton();
    this.showProgress();
  }

  showButton() {
    const b = /** @type {HTMLButtonElement} */ ($("rec-button"));
    const on = this.running();
    b.textContent = this.busy ? (on ? "Stopping…" : "Starting…") : on ? "■ Stop" : "● Record";
    b.setAttribute("aria-pressed", String(on));
    b.disabled = !this.enabled || this.busy || (!!this.rec && this.rec.state === "stopping");
    /** @type {HTMLInputElement} */ ($("rec-labels")).disabled = !this.enabled || on;
    $("recorder").dataset.state = this.rec ? this.rec.state : "";
  }

  showProgress() {
    const rec = this.rec;
    if (!rec || $("recorder").hidden) return;
    let elapsed = rec.elapsed_s;
    if (this.running()) elapsed += (performance.now() - this.polledAt) / 1000;
    const text = progressText(rec, elapsed);
    if ($("rec-status").textContent !== text) $("rec-status").textContent = this.T.text = text;
  }

  // showFiles lists the recording's files, each with its sidecar, as
  // download links (the token rides in the link: a link cannot send a header).
  showFiles() {
    const rec = this.rec;
    if (!rec) return;
    const t = token();
    const href = (/** @type {string} */ url) => (t ? `${url}?token=${encodeURIComponent(t)}` : url);
    const items = rec.files.map((f) => {
      const li = document.createElement("li");
      const a = Object.assign(document.createElement("a"), { href: href(f.url), textContent: f.name, download: f.name });
      const sc = Object.assign(document.createElement("a"), { href: href(f.sidecar_url), textContent: "sidecar", download: f.sidecar });
      a.dataset.file = f.name;
      li.append(a, " (", sc, f.open ? ", being written)" : ")");
      return li;
    });
    $("rec-files").replaceChildren(...items);
  }

  // toggle starts or stops the channel's recording.
  async toggle() {
    if (this.busy || !this.enabled || !this.channel) return;
    const gen = this.gen, name = this.channel, stop = this.running();
    /** @type {{labels: string[]} | undefined} */
    let body;
    if (!stop) {
      const p = parseLabels(/** @type {HTMLInputElement} */ ($("rec-labels")).value);
      if (p.error) return this.fail(p.error);
      body = { labels: p.labels };
    }
    this.busy = true;
    this.T.error = "";
    this.showButton();
    const path = `/api/channels/${encodeURIComponent(name)}/record`;
    const r = stop ? await api("DELETE", path) : await api("POST", path, body);
    this.busy = false;
    if (gen !== this.gen) return;
    const ok = r.status === (stop ? 200 : 201);
    if (ok) {
      $("rec-error").hidden = true;
      this.take(r.body);
      this.h.note(stop ? `recording ${r.body.id} stopped: ${r.body.files.map((/** @type {RecFile} */ f) => f.name).join(", ") || "no file (no frame arrived)"}`
        : `recording ${r.body.id} started on the server, into ${r.body.dir}`);
    } else {
      const msg = (r.body && r.body.error) || (r.status ? `serve answered ${r.status}` : "serve cannot be reached");
      if (r.body && r.body.recording) this.take(r.body.recording); // 409: someone else's recording is running
      this.fail(msg);
    }
    this.showButton();
    clearTimeout(this.timer);
    this.schedule();
  }

  /** @param {string} msg */
  fail(msg) {
    this.T.error = msg;
    $("rec-error").textContent = msg;
    $("rec-error").hidden = false;
    this.h.note(`record: ${msg}`, "error");
    setTimeout(() => {
      if (this.T.error === msg) $("rec-error").hidden = true;
    }, 8000);
  }
}
