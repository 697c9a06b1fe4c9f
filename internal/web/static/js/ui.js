// @ts-check
// Small helpers the page's views share: elements by id, and how counts and
// rates are printed.

/**
 * el returns the element with this id, checked to be of the given type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function el(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return e;
}

/** @param {string} id */
export const $ = (id) => el(id, HTMLElement);

/** @param {number} n */
export function fmtCount(n) {
  return n.toLocaleString("en-US");
}

/** @param {number} r */
export function fmtRate(r) {
  if (r >= 1e6) return `${+(r / 1e6).toPrecision(4)} MS/s`;
  if (r >= 1e3) return `${+(r / 1e3).toPrecision(4)} kS/s`;
  return `${+r.toPrecision(3)} S/s`;
}
