// jimoku web pages: what the review page and the dashboard share — DOM building, the API
// call and a few formats. The header and the sign-in they share are in shell.js.
//
// Every string that comes from the server reaches the DOM as a text node through `el()` or
// `textContent`. Nothing in the pages or here assigns innerHTML, so hostile text can only
// ever be displayed, never run.

import { lang, percent, t, tOr } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

/** Build an element; string children become text nodes (never parsed as HTML). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "data") Object.assign(node.dataset, v);
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k.includes("-")) node.setAttribute(k, String(v)); // aria-*, role-like attributes
    else node[k] = v; // DOM properties: title, href, type, disabled, ...
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A share in [0, 1] as a whole percentage, in the page's locale. */
export const pct = (x) => percent(x);
/** English-only "3 flags"; translated text uses a plural entry in the catalogue instead. */
export const plural = (n, word, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

// ---------------------------------------------------------------- API

/**
 * The signed-in key and its `/v1/me` answer (both null while signed out), and what to do when
 * the server stops accepting the key (set by shell.js: sign out with a message).
 */
export const session = { key: null, me: null, onExpired: () => {} };

/**
 * A refused API call: `status`, the server's stable `code` (app/api/errors.py) and its English
 * `detail`. The message is the detail in English; in another language it is the code's
 * translation (catalogue `errors.<code>`) followed by the detail, which names the specifics.
 */
export class ApiError extends Error {
  constructor(status, detail, code = null) {
    const translated = lang === "en" ? null : tOr("errors", code, null);
    super(translated ? t("common.error_with_detail", { message: translated, detail }) : detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg ?? JSON.stringify(d)).join("; ");
  return JSON.stringify(detail);
}

/** Call the API with the signed-in key; errors carry the server's `detail` and `code`. */
export async function api(path, { method = "GET", json, blob = false } = {}) {
  const headers = { Authorization: `Bearer ${session.key}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const res = await fetch(path, { method, headers, body });
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    let code = null;
    try {
      const body = await res.json();
      detail = describe(body.detail) || detail;
      code = typeof body.code === "string" ? body.code : null;
    } catch {
      /* not JSON: keep the status line */
    }
    if (res.status === 401 && path !== "/v1/me") session.onExpired();
    throw new ApiError(res.status, detail, code);
  }
  return blob ? res.blob() : res.json();
}
