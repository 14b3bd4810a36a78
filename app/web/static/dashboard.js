// jimoku automation dashboard: how much the review policy automates, how well the
// automatic answers hold up under audit, how fast people review, and the policy in force.
//
// Like the review page, every server string (flag kinds, case kinds, pause reasons,
// regular expressions) reaches the DOM as a text node through `el()`/`svg()` or
// `textContent`; nothing here assigns innerHTML. The chart is plain SVG built node by node.
// The DOM builder and the API call (common.js) and the header and sign-in (shell.js) are
// shared with the review page.

import { $, api, ApiError, el, pct, session } from "./common.js";
import { day, duration, number, percent, t, timeOfDay, tOr } from "./i18n.js";
import { setUpShell } from "./shell.js";

const REFRESH_MS = 30_000;
const MAX_DAYS = 30; // the chart shows at most this many calendar days
const PROPOSAL_PRECISION = 0.98;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  proposalAllowed: true, // false after a 403: this key is not an admin's
  stats: null,
  refreshTimer: null,
};

// ---------------------------------------------------------------- helpers

/** An SVG element; attributes are set one by one, text children are text nodes. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null) continue;
    if (k === "data") for (const [dk, dv] of Object.entries(v)) node.dataset[dk] = dv;
    else node.setAttribute(k, String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const pct1 = (x) => percent(x, 1);

/** Seconds as a person would say them, in the page's language: "42 s", "1 h 5 min", "1時間5分". */
const humanDuration = (seconds) => duration(seconds);

/** "2024-05-03" plus n days, in UTC (the server's days are UTC dates). */
function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- sign in / out

async function onSignIn() {
  state.proposalAllowed = true;
  await refresh();
}

function onSignOut() {
  clearTimeout(state.refreshTimer);
  state.stats = null;
}

// ---------------------------------------------------------------- refresh

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    else scheduleRefresh();
  }, REFRESH_MS);
}

/** Fetch everything at once and redraw; a failed refresh keeps the last picture. */
async function refresh() {
  const proposal = state.proposalAllowed
    ? api(`/v1/policy/proposal?min_precision=${PROPOSAL_PRECISION}`).catch((e) => e)
    : Promise.resolve(null);
  try {
    const [stats, policy, prop] = await Promise.all([api("/v1/stats"), api("/v1/policy"), proposal]);
    state.stats = stats;
    renderAutomation(stats.automation);
    renderAudits(stats.audits);
    renderTurnaround(stats.review_turnaround_s);
    renderFlags(stats.top_flags, stats.decided);
    renderTrust(stats.by_case_kind ?? [], stats.thresholds ?? []);
    renderPolicy(policy);
    renderProposal(prop);
    setStatus(t("dashboard.updated", { time: timeOfDay() }));
  } catch (e) {
    if (!session.key) return;
    setStatus(t("dashboard.refresh_failed", { error: e.message }), true);
  }
  if (session.key) scheduleRefresh();
}

function setStatus(text, failed = false) {
  $("status").textContent = text;
  $("status").classList.toggle("failed", failed);
}

// ---------------------------------------------------------------- automation chart

/** Calendar days from the first decided day (at most MAX_DAYS back) to today, gaps included. */
function chartDays(automation) {
  const byDay = new Map(automation.map((a) => [a.day, a]));
  const today = new Date().toISOString().slice(0, 10);
  const last = [automation.at(-1).day, today].sort().at(-1);
  let first = automation[0].day;
  if (addDays(first, MAX_DAYS - 1) < last) first = addDays(last, -(MAX_DAYS - 1));
  const days = [];
  for (let day = first; day <= last; day = addDays(day, 1)) {
    days.push(byDay.get(day) ?? { day, jobs: 0, auto_approved: 0, ratio: null });
  }
  return days;
}

function renderAutomation(automation) {
  const chart = $("chart");
  const empty = automation.length === 0;
  $("automation-empty").hidden = !empty;
  chart.hidden = empty;
  chart.replaceChildren();
  if (empty) {
    $("automation-summary").textContent = "";
    return;
  }
  const jobs = automation.reduce((n, a) => n + a.jobs, 0);
  const auto = automation.reduce((n, a) => n + a.auto_approved, 0);
  $("automation-summary").textContent =
    t("dashboard.all_time", { auto, jobs: t("dashboard.decided_jobs", { count: jobs }), share: pct(auto / jobs), since: day(automation[0].day) });

  const days = chartDays(automation);
  $("automation-range").textContent = days.length === MAX_DAYS && days[0].day > automation[0].day
    ? t("dashboard.last_days", { days: MAX_DAYS }) : "";
  const width = Math.max(320, chart.clientWidth || 640);
  const height = 220;
  const pad = { left: 40, right: 8, top: 18, bottom: 36 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / days.length;
  const barW = Math.min(56, slot * 0.7);
  const labelEvery = Math.ceil(44 / slot); // keep day labels ~44 px apart
  const y = (ratio) => pad.top + plotH * (1 - ratio);

  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": t("dashboard.chart_label") });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    root.append(
      svg("line", { class: tick ? "gridline" : "axis", x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick) }),
      svg("text", { class: "tick", x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end" }, pct(tick)));
  }
  days.forEach((d, i) => {
    const cx = pad.left + slot * (i + 0.5);
    const g = svg("g", { class: d.jobs ? "day" : "day none",
      data: { day: d.day, jobs: d.jobs, auto: d.auto_approved, ratio: d.ratio ?? "" } });
    if (d.jobs) {
      const h = Math.max(2, plotH * d.ratio); // 0% stays visible as a sliver on the axis
      g.append(
        svg("rect", { class: "bar", x: cx - barW / 2, y: y(0) - h, width: barW, height: h, rx: 2 },
          svg("title", {}, t("dashboard.day_bar", { day: day(d.day), auto: d.auto_approved, jobs: t("dashboard.jobs", { count: d.jobs }), share: pct(d.ratio) }))));
      if (slot >= 30) g.append(svg("text", { class: "ratio", x: cx, y: y(0) - h - 5, "text-anchor": "middle" }, pct(d.ratio)));
    } else {
      g.append(svg("title", {}, t("dashboard.day_none", { day: day(d.day) })));
    }
    if ((days.length - 1 - i) % labelEvery === 0) { // counted back from the latest day, which always has one
      g.append(svg("text", { class: "day-label", x: cx, y: height - pad.bottom + 15, "text-anchor": "middle" }, day(d.day, true)));
      if (slot >= 40) {
        g.append(svg("text", { class: "jobs-label", x: cx, y: height - pad.bottom + 29, "text-anchor": "middle" },
          d.jobs ? t("dashboard.day_jobs", { auto: d.auto_approved, jobs: d.jobs }) : t("dashboard.no_jobs")));
      }
    }
    root.append(g);
  });
  chart.append(root);
}

// ---------------------------------------------------------------- audits, turnaround, flags

function renderAudits({ count, agreed, precision }) {
  const value = $("audit-value");
  value.textContent = pct(precision);
  value.className = `big ${precision == null ? "none" : precision >= PROPOSAL_PRECISION ? "high" : precision >= 0.9 ? "mid" : "low"}`;
  $("audit-detail").textContent = count
    ? t("dashboard.audit_detail", { agreed, count: t("dashboard.audited_drafts", { count }) })
    : t("dashboard.audits_none");
}

function renderTurnaround({ count, p50, p95 }) {
  $("turnaround-p50").textContent = humanDuration(p50);
  $("turnaround-p95").textContent = humanDuration(p95);
  for (const id of ["turnaround-p50", "turnaround-p95"]) $(id).classList.toggle("none", !count);
  $("turnaround-detail").textContent = count
    ? t("dashboard.turnaround_detail", { reviews: t("dashboard.reviews", { count }) })
    : t("dashboard.turnaround_none");
}

function renderFlags(flags, decided) {
  const list = $("flag-bars");
  const max = Math.max(1, ...flags.map((f) => f.count));
  list.replaceChildren(...flags.map((f) =>
    el("li", { data: { kind: f.kind } },
      el("code", { class: "flag-kind", title: tOr("flag_help", f.kind, f.kind) }, tOr("flags", f.kind, f.kind)),
      el("span", { class: "flag-track" }, el("span", { class: "flag-fill", style: { width: `${(100 * f.count) / max}%` } })),
      el("span", { class: "flag-count" }, number(f.count)))));
  $("flags-empty").hidden = flags.length > 0;
  $("flags-empty").textContent = decided
    ? t("dashboard.flags_none", { jobs: t("dashboard.decided_jobs", { count: decided }) })
    : t("dashboard.flags_none_yet");
}

// ---------------------------------------------------------------- trust per case kind, thresholds

function renderTrust(kinds, thresholds) {
  const cells = (tag, values) => el("tr", {}, values.map((v) => el(tag, {}, v)));
  $("trust-table").replaceChildren(
    el("thead", {}, cells("th", [t("dashboard.trust_kind"), t("dashboard.trust_jobs"), t("dashboard.automation_ratio"),
      t("dashboard.audit_precision"), t("dashboard.trust_two_person"), t("dashboard.trust_refused")])),
    el("tbody", {}, kinds.map((k) => el("tr", { data: { kind: k.case_kind } },
      [el("td", {}, el("code", {}, k.case_kind)), number(k.jobs), pct(k.automation_ratio), pct1(k.audit_precision),
        pct(k.two_person_share), number(k.refused_stale)].map((v) => (v instanceof Node ? v : el("td", {}, v)))))));
  $("trust-empty").hidden = kinds.length > 0;
  $("threshold-table").replaceChildren(
    el("thead", {}, cells("th", [t("dashboard.threshold_what"), t("dashboard.table_threshold"),
      t("dashboard.threshold_reviewed"), t("dashboard.threshold_below"), t("dashboard.threshold_below_precision")])),
    el("tbody", {}, thresholds.map((r) => cells("td", [r.name, number(r.threshold, 2), number(r.reviewed_jobs),
      number(r.below), pct1(r.below_precision)]))));
  $("threshold-empty").hidden = thresholds.length > 0;
}

// ---------------------------------------------------------------- policy and proposal

function renderPolicy({ version, policy }) {
  $("policy-version").textContent = version ? t("dashboard.policy_version", { version }) : t("dashboard.policy_builtin");
  const threshold = policy.auto_approve_min_confidence;
  const kinds = policy.auto_approve_case_kinds ?? [];
  const honour = policy.honour_job_auto_approve && kinds.length > 0;
  const none = el("span", { class: "muted" }, t("common.none"));
  const codes = (items) => (items.length ? items.map((t) => el("code", { class: "tag" }, t)) : none.cloneNode(true));
  const paused = Object.entries(policy.paused_case_kinds);
  const rows = [
    [t("dashboard.policy_threshold"), threshold == null
      ? [el("span", { id: "policy-threshold", class: "off" }, t("dashboard.policy_threshold_off")),
        honour ? el("div", { class: "muted small" }, t("dashboard.policy_except_auto")) : null]
      : el("span", { id: "policy-threshold" }, el("strong", {}, `≥ ${number(threshold, 2)}`), t("dashboard.policy_threshold_on"))],
    [t("dashboard.policy_auto_jobs"), honour
      ? [t("dashboard.policy_auto_jobs_on"), ...codes(kinds)]
      : t("dashboard.policy_auto_jobs_ignored")],
    [t("dashboard.policy_audit_sample"), el("span", { id: "policy-audit-rate" }, t("dashboard.policy_audit_rate", { rate: pct1(policy.audit_rate) }))],
    [t("dashboard.policy_tools"), codes(policy.always_review_tools)],
    [t("dashboard.policy_questions"), codes(policy.always_review_questions)],
    [t("dashboard.policy_fingerprint"), policy.require_fingerprint === false
      ? el("span", { class: "off" }, t("dashboard.policy_fingerprint_optional")) : t("dashboard.policy_fingerprint_required")],
    [t("dashboard.policy_two_person"), (policy.two_person ?? []).length
      ? (policy.two_person).map((r) => el("div", {}, t("dashboard.policy_two_person_rule", { count: r.approvals,
        what: [...r.case_kinds, ...r.tools, ...r.flags, ...r.detector_classes].join(", ") })))
      : none.cloneNode(true)],
    [t("dashboard.policy_paused"), paused.length
      ? paused.map(([kind]) => el("code", { class: "tag warn" }, kind))
      : none.cloneNode(true)],
  ];
  $("policy-list").replaceChildren(...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));

  $("paused").hidden = paused.length === 0;
  $("paused-title").textContent = t("dashboard.paused_kinds", { count: paused.length });
  $("paused-list").replaceChildren(...paused.map(([kind, reason]) =>
    el("li", { data: { kind } }, el("code", { class: "tag warn" }, kind), el("span", { class: "reason", lang: "en", title: t("dashboard.server_reason") }, reason))));
}

function renderProposal(result) {
  const section = $("proposal");
  if (result instanceof ApiError && result.status === 403) state.proposalAllowed = false;
  if (!state.proposalAllowed || result == null) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  $("proposal-target").textContent = t("dashboard.proposal_target", { precision: pct(PROPOSAL_PRECISION) });
  const body = $("proposal-body");
  if (result instanceof Error) {
    body.replaceChildren(el("p", { class: "error" }, t("dashboard.proposal_error", { error: result.message })));
    return;
  }
  const p = result;
  const parts = [];
  if (p.threshold == null) {
    parts.push(el("p", { class: "no-proposal" }, el("strong", {}, t("dashboard.no_proposal")),
      el("span", { id: "proposal-reason", lang: "en", title: t("dashboard.server_reason") }, p.reason)));
  } else {
    parts.push(
      el("div", { class: "proposal-figures" },
        figure(t("dashboard.proposal_threshold"), number(p.threshold, 3)),
        figure(t("dashboard.proposal_would_automate"), pct(p.automation_rate), t("dashboard.proposal_reviewed")),
        figure(t("dashboard.proposal_precision"), pct1(p.precision), t("dashboard.proposal_lower_bound", { value: pct1(p.lower_bound) })),
        figure(t("dashboard.proposal_support"), number(p.support), t("dashboard.proposal_support_note"))),
      el("p", { id: "proposal-reason", class: "muted small", lang: "en", title: t("dashboard.server_reason") }, p.reason),
      el("p", { class: "small" }, t("dashboard.apply_with"),
        el("code", {}, `jimoku policy set --min-confidence ${p.threshold.toFixed(3)} --reason "proposal at ${PROPOSAL_PRECISION}"`)));
  }
  if (p.table.length) parts.push(proposalTable(p.table, p.threshold));
  body.replaceChildren(...parts);
}

function figure(label, value, note = "") {
  return el("div", { class: "figure" }, el("div", { class: "big-label" }, label), el("div", { class: "big" }, value),
    note ? el("div", { class: "muted small" }, note) : null);
}

function proposalTable(table, chosen) {
  const cells = (tag, values) => el("tr", {}, values.map((v) => el(tag, {}, v)));
  return el("details", { class: "candidates" },
    el("summary", {}, t("dashboard.candidates", { count: table.length })),
    el("div", { class: "table-scroll" }, el("table", {},
      el("thead", {}, cells("th", [t("dashboard.table_threshold"), t("dashboard.table_support"), t("dashboard.table_precision"),
        t("dashboard.table_lower_bound"), t("dashboard.table_automation")])),
      el("tbody", {}, table.map((r) => {
        const row = cells("td", [number(r.threshold, 3), number(r.support), pct1(r.precision), pct1(r.lower_bound), pct(r.automation_rate)]);
        if (r.threshold === chosen) row.className = "chosen";
        return row;
      })))));
}

// ---------------------------------------------------------------- wiring

function init() {
  // The chart is drawn to the card's width; redraw when the window changes size.
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => state.stats && renderAutomation(state.stats.automation), 150);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && session.key) refresh();
  });
  const status = el("p", { id: "status", class: "status", "aria-live": "polite" });
  setUpShell({ current: "dashboard", title: "dashboard", middle: status, name: t("shell.page_dashboard"), onSignIn, onSignOut });
}

init();
