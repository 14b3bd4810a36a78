// jimoku web pages: what the review page and the dashboard share — DOM building, the API
// call, a few formats, and the sign-in with a reviewer's key.
//
// Every string that comes from the server reaches the DOM as a text node through `el()` or
// `textContent`. Nothing in the pages or here assigns innerHTML, so hostile text can only
// ever be displayed, never run.

const KEY_STORAGE = "jimoku.reviewKey"; // one sign-in per tab, for every page

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
    else node[k] = v; // DOM properties only: title, href, type, disabled, ...
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

/** The signed-in key and its `/v1/me` answer; both null while signed out. */
export const session = { key: null, me: null };

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
    if (res.status === 401 && path !== "/v1/me") signOut("Your key is no longer accepted. Sign in again.");
    throw new ApiError(res.status, detail);
  }
  return blob ? res.blob() : res.json();
}

// ---------------------------------------------------------------- sign in / out

// Set by setUpSignIn: the page's name for error messages and what it does on sign in / out.
const page = { name: "this page", onSignIn: async () => {}, onSignOut: () => {} };

async function signIn(key) {
  session.key = key;
  let me;
  try {
    me = await api("/v1/me");
  } catch (e) {
    session.key = null;
    throw e.status === 401 ? new Error("That key was not accepted.") : e;
  }
  if (me.role !== "reviewer" && me.role !== "admin") {
    session.key = null;
    throw new Error(`This is a ${me.role} key; ${page.name} needs a reviewer or admin key.`);
  }
  session.me = me;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("who-name").textContent = me.name;
  $("who-role").textContent = me.role;
  $("login").hidden = true;
  $("app").hidden = false;
  await page.onSignIn(me);
}

/** Forget the key, let the page drop what it holds, and show the sign-in form with `message`. */
export function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORAGE);
  Object.assign(session, { key: null, me: null });
  page.onSignOut();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-key").value = "";
  $("login-error").textContent = message;
  $("login-key").focus();
}

/**
 * Wire the sign-in form (#login-form, #login-key, #login-error) and #logout, then sign in with
 * this tab's saved key or show the form. `name` ends the wrong-role message ("… ${name} needs a
 * reviewer or admin key"); `onSignIn(me)` runs once the app is shown, `onSignOut()` on sign-out.
 */
export function setUpSignIn({ name, onSignIn, onSignOut }) {
  Object.assign(page, { name, onSignIn, onSignOut });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      await signIn($("login-key").value.trim());
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  });
  $("logout").addEventListener("click", () => signOut("Signed out."));

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (!saved) return signOut();
  signIn(saved).catch((e) => signOut(e.message));
}
