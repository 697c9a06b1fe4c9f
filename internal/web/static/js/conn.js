// @ts-check
// The WebSocket connection to a channel's stream (/ws/NAME, or /ws for the
// only one): reconnects with exponential backoff and full jitter, resumes
// with ?since=<last seq + 1>&epoch=<its epoch>, asks for ?envelope=N when
// the view wants envelopes, and asks for a token when serve runs with
// --token (one for the tab, kept in its sessionStorage, shared by every
// connection).

const TOKEN_KEY = "wsbridge.token";
const BASE_MS = 300;
const MAX_MS = 10000;
const STABLE_MS = 3000; // a connection open this long resets the backoff

/**
 * backoff returns the delay before attempt n (1, 2, ...): a random value in
 * [d/2, d] where d doubles from BASE_MS up to MAX_MS.
 * @param {number} n
 * @param {() => number} [rnd] uniform in [0, 1)
 */
export function backoff(n, rnd = Math.random) {
  const d = Math.min(MAX_MS, BASE_MS * 2 ** Math.min(16, n - 1));
  return Math.round(d / 2 + (rnd() * d) / 2);
}

/** @typedef {{seq: number, epoch: string}} Since where to resume: a seq within an epoch */

/**
 * What a Connection calls. States: connecting, connected, reconnecting, token.
 * @typedef {object} Handlers
 * @property {(state: string, detail: {attempt?: number, delay?: number, rejected?: boolean}) => void} state
 * @property {(buf: ArrayBuffer) => void} binary a binary message
 * @property {(msg: import("./stream.js").Message) => void} text a JSON message
 * @property {(text: string) => void} note
 * @property {() => Since | null} since where to resume, or null for live
 * @property {(info: import("./stream.js").APIInfo) => Since | null} prefill where the first connection starts
 * @property {(url: string) => void} opening the URL being opened, token elided
 */

/**
 * wsURL is the stream's URL on the page's own host: path plus the
 * resolution, the resume position and the token.
 * @param {{protocol: string, host: string}} loc the page's location
 * @param {string} path
 * @param {Since | null} since
 * @param {string} token
 * @param {number} [envelope] N for ?envelope=N, 0 for every sample
 */
export function wsURL(loc, path, since, token, envelope = 0) {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  const q = new URLSearchParams();
  if (envelope) q.set("envelope", String(envelope));
  if (since !== null) {
    q.set("since", String(since.seq));
    if (since.epoch) q.set("epoch", since.epoch);
  }
  if (token) q.set("token", token);
  const qs = q.toString();
  return `${proto}//${loc.host}${path}${qs ? "?" + qs : ""}`;
}

/**
 * channelPaths are a channel's stream and info document: /ws/NAME and
 * /api/channels/NAME, or /ws and /api/info for "" (the only channel).
 * @param {string} channel
 */
export function channelPaths(channel) {
  const n = encodeURIComponent(channel);
  return channel ? { ws: `/ws/${n}`, info: `/api/channels/${n}` } : { ws: "/ws", info: "/api/info" };
}

/**
 * token returns the tab's token: from ?token= in the address bar (taken
 * once, stored, and removed from the address bar) or sessionStorage.
 */
export function token() {
  const u = new URL(location.href);
  const t = u.searchParams.get("token");
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    u.searchParams.delete("token");
    history.replaceState(null, "", u.pathname + u.search + u.hash);
    return t;
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

/**
 * setToken keeps t as the tab's token ("" forgets it).
 * @param {string} t
 */
export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * fetchJSON GETs path with the tab's token: {status, body} (body null
 * unless 200 and JSON; status 0 when serve cannot be reached).
 * @param {string} path
 * @returns {Promise<{status: number, body: any}>}
 */
export async function fetchJSON(path) {
  try {
    const t = token();
    /** @type {Record<string, string>} */
    const headers = t ? { Authorization: `Bearer ${t}` } : {};
    const r = await fetch(path, { headers, cache: "no-store" });
    return { status: r.status, body: r.ok ? await r.json() : null };
  } catch {
    return { status: 0, body: null };
  }
}

export class Connection {
  /**
   * @param {Handlers} handlers
   * @param {string} [channel] the channel's name; "" for the only one (/ws)
   */
  constructor(handlers, channel = "") {
    this.h = handlers;
    this.paths = channelPaths(channel);
    /** @type {WebSocket | null} */
    this.ws = null;
    this.attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.token = token();
    this.everConnected = false;
    this.authFailed = false;
    this.closed = false;
    this.envelope = 0; // N for ?envelope=N on the next connection, 0 for every sample
  }

  /** @param {Since | null} since */
  url(since) {
    return wsURL(location, this.paths.ws, since, this.token, this.envelope);
  }

  // connect opens the WebSocket. Before the first connection it asks
  // /api/info where serve's history stands, so the page can start with the
  // newest window already filled (and learns at once if a token is needed).
  async connect() {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.token = token();
    this.h.state(this.everConnected ? "reconnecting" : "connecting", { attempt: this.attempt });
    let since = this.h.since();
    if (!this.everConnected && since === null) {
      const r = await this.info();
      if (r.status === 401) return this.needToken(!!this.token);
      if (r.info) since = this.h.prefill(r.info);
    }
    if (this.closed) return;
    let ws;
    try {
      ws = new WebSocket(this.url(since));
    } catch (e) {
      this.h.note(`cannot open WebSocket: ${e instanceof Error ? e.message : e}`);
      this.schedule();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.h.opening(ws.url.replace(/([?&]token=)[^&]*/, "$1…"));
    let openedAt = 0;
    ws.onopen = () => {
      openedAt = performance.now();
      this.everConnected = true;
      this.h.state("connected", {});
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.onText(ev.data);
      else this.h.binary(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClose(ev, openedAt);
    };
  }

  /** @param {string} data */
  onText(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      this.h.note(`unreadable text message: ${data.slice(0, 80)}`);
      return;
    }
    if (msg && msg.type === "error" && msg.code === "unauthorized") this.authFailed = true;
    this.h.text(msg);
  }

  /**
   * @param {CloseEvent} ev
   * @param {number} openedAt performance.now() when it opened, 0 if it never did
   */
  async onClose(ev, openedAt) {
    const stable = openedAt && performance.now() - openedAt >= STABLE_MS;
    if (stable) this.attempt = 0;
    if (ev.code !== 1006 && ev.code !== 1000) this.h.note(`connection closed: ${ev.code}${ev.reason ? " " + ev.reason : ""}`);
    if (this.authFailed || (ev.code === 1008 && /token|auth/i.test(ev.reason))) return this.needToken(true);
    if (!openedAt && (await this.unauthorized())) return this.needToken(!!this.token);
    this.schedule();
  }

  // unauthorized asks /api/info whether the token (or its absence) is what
  // failed: a browser cannot see the status of a refused WebSocket handshake.
  async unauthorized() {
    return (await this.info()).status === 401;
  }

  /**
   * info fetches the channel's info document: {status, info} (info null
   * unless 200 and JSON).
   * @returns {Promise<{status: number, info: import("./stream.js").APIInfo | null}>}
   */
  async info() {
    const r = await fetchJSON(this.paths.info);
    return { status: r.status, info: r.body };
  }

  schedule() {
    if (this.closed) return;
    this.attempt++;
    const delay = backoff(this.attempt);
    this.h.state("reconnecting", { attempt: this.attempt, delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** @param {boolean} rejected */
  needToken(rejected) {
    this.authFailed = false;
    clearTimeout(this.timer);
    if (rejected && this.token === token()) setToken("");
    this.token = "";
    this.h.state("token", { rejected });
  }

  // retryToken connects again with the tab's (new) token.
  retryToken() {
    this.attempt = 0;
    this.connect();
  }

  /**
   * reopen closes the connection (if open) and connects again at once, with
   * what since() says now and this.envelope: a change of resolution.
   */
  reopen() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "changing resolution");
    this.attempt = 0;
    this.connect();
  }

  // close ends the connection for good (the view no longer shows it).
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "view closed");
  }

  retryNow() {
    if (this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  /** @param {object} obj */
  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }
}
