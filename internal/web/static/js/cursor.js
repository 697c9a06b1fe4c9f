// @ts-check
// The plot's cursor: the pixel column a mouse, pen, finger or the keyboard
// points at on a canvas. The view reads x (and snap) on each redraw.
//
// - Mouse and pen: the cursor follows the pointer and goes when it leaves.
// - Touch: a tap or a sideways drag sets it, and it stays where the finger
//   lifted, so the reading can be read; a tap elsewhere on the page clears
//   it. Vertical swipes still scroll the page (touch-action: pan-y, in
//   style.css).
// - Keyboard: the canvas takes focus (Tab); Left and Right move the cursor
//   by one pixel, with Shift by a tenth of the width, Home and End go to
//   the ends, Escape clears it. Without a cursor the readout still names
//   each channel's highest peak in the spectrum.

/** @typedef {"mouse" | "pen" | "touch" | "keyboard"} Pointer what set the cursor */

/**
 * Cursor snapping in the spectrum, in CSS pixels either side: a finger is
 * less precise than a mouse; keys move by the pixel.
 * @type {Record<Pointer, number>}
 */
const SNAP_CSS = { mouse: 4, pen: 4, touch: 12, keyboard: 0 };

export class Cursor {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {() => void} changed called whenever x or snap changed
   */
  constructor(canvas, changed) {
    this.canvas = canvas;
    this.changed = changed;
    /** @type {number | null} the column pointed at, in canvas (device) pixels */
    this.x = null;
    /** columns either side in which a peak of the spectrum is read */
    this.snap = 0;
    /** @type {Pointer} */
    this.by = "mouse";
    canvas.tabIndex = 0;
    canvas.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight Home End Escape");
    canvas.addEventListener("pointerdown", (e) => this.point(e));
    canvas.addEventListener("pointermove", (e) => this.point(e));
    canvas.addEventListener("pointerleave", (e) => {
      if (e.pointerType !== "touch") this.set(null, "mouse");
    });
    document.addEventListener("pointerdown", (e) => {
      if (this.by === "touch" && e.target !== canvas) this.set(null, "touch");
    });
    canvas.addEventListener("keydown", (e) => this.key(e));
    canvas.addEventListener("blur", () => {
      if (this.by === "keyboard") this.set(null, "keyboard");
    });
  }

  /** @param {PointerEvent} e */
  point(e) {
    if (e.pointerType === "touch" && e.type === "pointermove" && !e.buttons) return;
    const c = this.canvas;
    const x = Math.floor((e.offsetX * c.width) / Math.max(1, c.clientWidth));
    this.set(Math.max(0, Math.min(c.width - 1, x)), e.pointerType === "touch" ? "touch" : e.pointerType === "pen" ? "pen" : "mouse");
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const w = this.canvas.width, step = e.shiftKey ? Math.max(1, Math.round(w / 10)) : Math.max(1, Math.round(window.devicePixelRatio || 1));
    const from = this.x === null ? Math.floor(w / 2) : this.x;
    /** @type {Record<string, () => number | null>} */
    const moves = {
      ArrowLeft: () => (this.x === null ? from : from - step),
      ArrowRight: () => (this.x === null ? from : from + step),
      Home: () => 0,
      End: () => w - 1,
      Escape: () => null,
    };
    const m = moves[e.key];
    if (!m) return;
    const x = m();
    this.set(x === null ? null : Math.max(0, Math.min(w - 1, x)), "keyboard");
    e.preventDefault();
    e.stopPropagation();
  }

  /**
   * @param {number | null} x
   * @param {Pointer} by
   */
  set(x, by) {
    const snap = Math.round(SNAP_CSS[by] * (window.devicePixelRatio || 1));
    if (x === this.x && by === this.by && snap === this.snap) return;
    this.x = x;
    this.by = by;
    this.snap = snap;
    this.changed();
  }
}
