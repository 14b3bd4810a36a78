// jimoku web pages: the interface language — English or Japanese — and the locale's formats.
//
// The language is, in order: the reader's choice from the switch (remembered in localStorage),
// else the browser's preferred languages (navigator.languages, what it sends as
// Accept-Language), else English. The catalogues are plain JSON, one per language, under
// /static/locales/; keys are grouped per page or module ("review.approve", "flags.conflict",
// "errors.job_not_found"). A key missing from the chosen catalogue falls back to English, and
// one missing from both shows as the key itself, so a gap is visible instead of blank.
//
// This module loads its catalogues with a top-level await, so every module that imports it
// can call `t()` synchronously. Numbers, dates and durations go through the browser's Intl.

export const LANGUAGES = { en: "English", ja: "日本語" };
const STORAGE = "jimoku.lang";

/** The language to show: remembered choice → browser preference → English. */
function pickLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE);
  } catch {
    /* storage blocked: fall through to the browser's preference */
  }
  if (saved && Object.hasOwn(LANGUAGES, saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (Object.hasOwn(LANGUAGES, base)) return base;
  }
  return "en";
}

export const lang = pickLanguage();
document.documentElement.lang = lang;

async function load(code) {
  const res = await fetch(`/static/locales/${code}.json`, { cache: "no-cache" });
  if (!res.ok) throw new Error(`catalogue ${code}: ${res.status}`);
  return res.json();
}

// A catalogue that cannot be loaded leaves the keys showing (and the page working), not a blank page.
const english = await load("en").catch((e) => {
  console.error(e);
  return {};
});
const catalogue = lang === "en" ? english : await load(lang).catch(() => english);

const lookup = (cat, key) => key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), cat);
const plurals = new Intl.PluralRules(lang);

/** Whether `key` names a string in the chosen catalogue or in English. */
export function has(key) {
  return typeof (lookup(catalogue, key) ?? lookup(english, key)) !== "undefined";
}

/**
 * The string for `key`, with `{name}` placeholders filled from `params` (numbers in the locale's
 * format). An entry may be an object of plural forms ({"one": …, "other": …}), chosen by
 * `params.count` with Intl.PluralRules (Japanese has only "other").
 */
export function t(key, params = {}) {
  let entry = lookup(catalogue, key) ?? lookup(english, key);
  if (entry == null) return key;
  if (typeof entry === "object") {
    entry = entry[plurals.select(Number(params.count ?? 0))] ?? entry.other ?? key;
  }
  return String(entry).replace(/\{(\w+)\}/g, (whole, name) => {
    const v = params[name];
    if (v == null) return whole;
    return typeof v === "number" ? number(v) : String(v);
  });
}

/** The translation of `prefix.code` when the catalogue has it, else `fallback` (server text). */
export function tOr(prefix, code, fallback, params = {}) {
  const key = `${prefix}.${code}`;
  return code && has(key) ? t(key, params) : fallback;
}

// ---------------------------------------------------------------- formats

const cache = new Map();
const fmt = (kind, options) => {
  const id = `${kind}:${JSON.stringify(options)}`;
  if (!cache.has(id)) cache.set(id, new Intl[kind](lang, options));
  return cache.get(id);
};

/** A number in the locale; `digits` fixed fraction digits when given. */
export function number(x, digits) {
  if (x == null || !Number.isFinite(Number(x))) return "—";
  const opts = digits == null ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return fmt("NumberFormat", opts).format(Number(x));
}

/** A share in [0, 1] as a percentage ("87%"), `digits` fraction digits. */
export function percent(x, digits = 0) {
  if (x == null || !Number.isFinite(Number(x))) return "—";
  return fmt("NumberFormat", { style: "percent", minimumFractionDigits: 0, maximumFractionDigits: digits }).format(Number(x));
}

/** A moment (ISO string or Date) as date and time in the locale. */
export function dateTime(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? "" : fmt("DateTimeFormat", options).format(d);
}

/** A time of day ("14:05:09", "午後2:05:09" style per locale). */
export const timeOfDay = (value = new Date()) => dateTime(value, { timeStyle: "medium" });

/** A UTC calendar day ("2024-05-03") as the locale writes it; `short` drops the year. */
export function day(iso, short = false) {
  const options = short ? { month: "numeric", day: "numeric", timeZone: "UTC" } : { dateStyle: "medium", timeZone: "UTC" };
  return dateTime(`${iso}T00:00:00Z`, options);
}

const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

/** `n` of a time unit, from the catalogue ("4 min", "4分"), the number in the locale's format. */
const unit = (name, n, digits = 0) => t(`units.${name}`, { n: number(n, digits) });
const two = (a, b) => (b ? `${a}${t("units.join")}${b}` : a);

/**
 * A length of time in seconds as a person says it, at most two units ("42 s", "4 min",
 * "1 h 5 min", "2 d 3 h"; "4分", "1時間5分"). With `ms`, short times keep their precision
 * ("850 ms", "1.2 s"), for a step's run time. The unit words come from the catalogue rather than
 * Intl.DurationFormat so the English page keeps the short forms it always showed.
 */
export function duration(seconds, { ms = false } = {}) {
  if (seconds == null || !Number.isFinite(Number(seconds))) return "—";
  const exact = Math.max(0, Number(seconds));
  if (ms && exact < 1) return unit("millisecond", Math.round(exact * 1000));
  if (ms && exact < 60) return unit("second", exact, 1);
  const s = Math.round(exact);
  if (s < 60) return unit("second", s);
  if (s < 3600) return unit("minute", Math.round(s / 60));
  if (s < 86400) {
    const m = Math.round(s / 60);
    return two(unit("hour", Math.floor(m / 60)), m % 60 ? unit("minute", m % 60) : "");
  }
  const h = Math.round(s / 3600);
  return two(unit("day", Math.floor(h / 24)), h % 24 ? unit("hour", h % 24) : "");
}

/** How long ago a moment was, in the locale ("5 minutes ago", "5 分前"). */
export function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return "";
  const rtf = fmt("RelativeTimeFormat", { numeric: "auto", style: "long" });
  for (const [name, size] of UNITS) {
    if (Math.abs(s) >= size || name === "second") return rtf.format(-Math.round(s / size) || 0, name);
  }
  return "";
}

// ---------------------------------------------------------------- the page

/**
 * Translate the static HTML under `root`: `data-i18n="key"` sets the text,
 * `data-i18n-title` / `data-i18n-aria-label` / `data-i18n-placeholder` set those attributes.
 */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attr of ["title", "aria-label", "placeholder"]) {
    const data = `i18n${attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`;
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) node.setAttribute(attr, t(node.dataset[data]));
  }
}

/** Remember `code` as the reader's language and show the page in it. */
export function setLanguage(code) {
  if (!Object.hasOwn(LANGUAGES, code) || code === lang) return;
  try {
    localStorage.setItem(STORAGE, code);
  } catch {
    /* storage blocked: the choice lasts for this page only */
  }
  location.reload();
}

/** The language switch: a button per language, the current one pressed. */
export function languageSwitch(make) {
  return make("span", { class: "lang-switch", role: "group", "aria-label": t("common.language") },
    Object.entries(LANGUAGES).map(([code, name]) => make("button", {
      type: "button", class: code === lang ? "on" : "", lang: code, data: { lang: code },
      "aria-pressed": String(code === lang), onclick: () => setLanguage(code),
    }, name)));
}
