// Review page: the banner's translated parts — each flag with its name and what it means, and
// the confidence explanation.
//
// The server's flag messages are free English text (they quote values read from the evidence),
// so they are shown as data: in English as they are; in another language after the flag's
// translated name and meaning, marked lang="en" and labelled as the server's words.
// The confidence explanation has a fixed shape, written by graphs/consistency.py `confidence()`:
//   "0.42 = evidence 0.70 (geometric mean of s1, s2) × 0.6 (uncertain_alarm) × 0.85 (low_confidence)"
// It is parsed and rebuilt in the page's language; text of any other shape is shown as it is.

import { el } from "../common.js";
import { lang, number, t, tOr } from "../i18n.js";

/** The flag's name in the page's language (English keeps the code the API and CLI use). */
export const flagName = (kind) => tOr("flags", kind, kind);

/** One flag of the banner: its name, then the server's message (translated meaning first when not English). */
export function flagItem(flag, chips = []) {
  const help = tOr("flag_help", flag.kind, "");
  const pill = el("span", { class: "pill flag", title: help || flag.kind, data: { kind: flag.kind } }, flagName(flag.kind));
  if (lang === "en") return el("li", {}, pill, " ", flag.message, " ", chips);
  return el("li", {}, pill, " ", el("span", { class: "flag-help" }, help), " ",
    el("span", { class: "flag-msg muted small", lang: "en", title: t("job.server_says") }, flag.message), " ", chips);
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const EXPLAINED = new RegExp(String.raw`^${NUM} = evidence ${NUM} \(geometric mean of (.*?)\)((?: × ${NUM} \(\w+\))*)$`);
const FACTOR = new RegExp(String.raw` × ${NUM} \((\w+)\)`, "g");

/** The confidence explanation in the page's language, as text nodes; unknown shapes unchanged. */
export function explainConfidence(text) {
  if (!text) return [];
  const m = EXPLAINED.exec(String(text).trim());
  if (!m) return [String(text)];
  const [, score, base, steps, factors] = m;
  const parts = [t("confidence.formula", {
    score: number(Number(score), 2), base: number(Number(base), 2),
    steps: steps === "no steps" ? t("confidence.no_steps") : steps,
  })];
  for (const [, factor, kind] of factors.matchAll(FACTOR)) {
    parts.push(" ", t("confidence.flag_factor", { factor: number(Number(factor)), flag: flagName(kind) }));
  }
  return [parts.join("")];
}
