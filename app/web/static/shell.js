// jimoku web pages: the frame every page shares — the sign-in form and the top bar (brand,
// the pages' navigation, who is signed in, log out). Each page's HTML holds only its own
// content inside <div id="app" hidden>; `setUpShell` builds the rest, so the two pages can
// never drift apart.
//
// A reviewer or admin key signs in once per tab (session storage) for every page.

import { $, api, el, session } from "./common.js";
import { languageSwitch, t, translatePage, tOr } from "./i18n.js";

const KEY_STORAGE = "jimoku.reviewKey"; // one sign-in per tab, for every page

/** The site's pages, in the order the navigation shows them. */
const PAGES = [
  { id: "review", href: "/review", label: "shell.nav_review" },
  { id: "dashboard", href: "/dashboard", label: "shell.nav_dashboard" },
];

const brand = (title) => [
  "jimoku ", el("span", { lang: "ja" }, "耳目"), " ", el("span", { class: "muted" }, t(`shell.brand_${title}`)),
];

function loginForm(title) {
  return el("main", { id: "login", class: "login", hidden: true },
    el("form", { id: "login-form", class: "login-card", autocomplete: "off" },
      el("h1", {}, brand(title)),
      el("label", { htmlFor: "login-key" }, t("shell.key_label")),
      el("input", {
        id: "login-key", name: "key", type: "password", autocomplete: "off", required: true,
        spellcheck: false, autofocus: true,
      }),
      el("button", { type: "submit", class: "btn primary" }, t("shell.sign_in")),
      el("p", { id: "login-error", class: "error", role: "alert" }),
      el("p", { class: "muted small" }, t("shell.key_note")),
      el("div", { class: "login-lang" }, languageSwitch(el))));
}

function topBar(current, title, middle) {
  return el("header", { class: "topbar" },
    el("div", { class: "brand" }, brand(title)),
    el("nav", { class: "nav", "aria-label": t("shell.nav_label") },
      PAGES.map((p) => (p.id === current
        ? el("span", { class: "here", "aria-current": "page" }, t(p.label))
        : el("a", { href: p.href }, t(p.label))))),
    middle ?? el("span", { class: "spacer" }),
    languageSwitch(el),
    el("div", { class: "who" },
      el("span", { id: "who-name" }), " ", el("span", { id: "who-role", class: "pill" }),
      el("button", { id: "logout", type: "button", class: "btn small" }, t("shell.log_out"))));
}

// What the page does on sign in / out, and its name for the wrong-role message.
const page = { name: "this page", onSignIn: async () => {}, onSignOut: () => {} };

/** A role's name in the page's language ("reviewer" → "審査者"). */
const roleName = (role) => tOr("shell", `role_${role}`, role);

async function signIn(key) {
  session.key = key;
  let me;
  try {
    me = await api("/v1/me");
  } catch (e) {
    session.key = null;
    throw e.status === 401 ? new Error(t("shell.key_not_accepted")) : e;
  }
  if (me.role !== "reviewer" && me.role !== "admin") {
    session.key = null;
    throw new Error(t("shell.wrong_role", { role: roleName(me.role), page: page.name }));
  }
  session.me = me;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("who-name").textContent = me.name;
  $("who-role").textContent = roleName(me.role);
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
 * Build the sign-in form and the top bar around the page's #app, then sign in with this tab's
 * saved key or show the form.
 *
 * `current` is the page's id in PAGES; `title` follows the brand ("review", "dashboard");
 * `middle` is the page's own element in the top bar (shortcut help, refresh status); `name`
 * (already translated) goes in the wrong-role message ("… ${name} needs a reviewer or admin key"); `onSignIn(me)` runs
 * once the app is shown, `onSignOut()` on sign-out.
 */
export function setUpShell({ current, title, middle = null, name, onSignIn, onSignOut }) {
  Object.assign(page, { name, onSignIn, onSignOut });
  translatePage(); // the page's own HTML: elements marked data-i18n
  document.title = t(`${current}.title`);
  const app = $("app");
  app.before(loginForm(title));
  app.prepend(topBar(current, title, middle));
  session.onExpired = () => signOut(t("shell.expired"));

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      await signIn($("login-key").value.trim());
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  });
  $("logout").addEventListener("click", () => signOut(t("shell.signed_out")));

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (!saved) return signOut();
  signIn(saved).catch((e) => signOut(e.message));
}
