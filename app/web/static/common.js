// jimoku web pages: what the review page and the dashboard share — DOM building, the API
// call and a few formats. The header and the sign-in they share are in shell.js.
//
// Every string that comes from the server reaches the DOM as a text node through `el()` or
// `textContent`. Nothing in the pages or here assigns innerHTML, so hostile text can only
// ever be displayed, never run.

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

export const pct = (x) => (x == null ? "—" : `${Math.round(x * 100)}%`);
export const plural = (n, word, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

// ---------------------------------------------------------------- API

/**
 * The signed-in key and its `/v1/me` answer (both null while signed out), and what to do when
 * the server stops accepting the key (set by shell.js: sign out with a message).
 */
export const session = { key: null, me: null, onExpired: () => {} };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg ?? JSON.stringify(d)).join("; ");
  return JSON.stringify(detail);
}

/** Call the API with the signed-in key; errors carry the server's `detail`. */
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
    try {
      detail = describe((await res.json()).detail) || detail;
    } catch {
      /* not JSON: keep the status line */
    }
    if (res.status === 401 && path !== "/v1/me") session.onExpired();
    throw new ApiError(res.status, detail);
  }
  return blob ? res.blob() : res.json();
}
