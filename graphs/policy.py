"""The review policy: which drafts a person must see, and which may be approved by rule.

Like Amazon A2I's activation conditions, a policy is a set of rules, each able to send a
job to a human: any flag (always: this one cannot be switched off), confidence below
the threshold, a tool or question kind chosen for review, a paused case kind, or the
random audit sample. Automation is earned: the threshold is off (`None`) until an admin
sets one, typically from `app.policy_stats.propose_threshold` over the review history.

An *audit* here is a job the rules would have auto-approved, sent to a person instead
(at `audit_rate`, chosen by a hash of the job id so a re-run decides the same). When the
person edits or rejects it, automation pauses for that case kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any

import regex
from pydantic import BaseModel, ConfigDict, Field

PATTERN_SECONDS = 0.05
"""Time one question pattern may take on one question (the `regex` engine stops it there)."""
_PROBE_CHARS = 4000
"""Length of the strings a pattern is tried on when it is written (the default `max_question_chars`)."""


class TwoPersonRule(BaseModel):
    """Jobs this rule matches need `approvals` approvals by distinct reviewers before they are final.

    A rule matches a job when any of its lists names something the job has: its case kind, a
    tool it used, a flag raised on it, or a detector class found in its evidence (e.g. any Fall).
    """

    model_config = ConfigDict(extra="forbid")

    approvals: int = Field(2, ge=2, le=5, description="Distinct reviewers who must approve.")
    case_kinds: list[str] = Field(default_factory=list, description="Case kinds ('ocr', 'asr+ocr'; '*' for any).")
    tools: list[str] = Field(default_factory=list, description="Tools whose use triggers the rule.")
    flags: list[str] = Field(default_factory=list, description="Flag kinds whose presence triggers the rule.")
    detector_classes: list[str] = Field(default_factory=list,
                                        description="Detector classes (e.g. 'Fall') found in the evidence.")

    def reason(self, state: dict[str, Any]) -> str | None:
        """Why this rule applies to the job, or None when it does not."""
        steps = state.get("steps", [])
        kind = case_kind(steps)
        if kind in self.case_kinds or "*" in self.case_kinds:
            return f"case kind {kind}"
        if hit := sorted({s["tool"] for s in steps} & set(self.tools)):
            return f"tool {', '.join(hit)}"
        if hit := sorted({f["kind"] for f in state.get("flags", [])} & set(self.flags)):
            return f"flag {', '.join(hit)}"
        if hit := sorted(detected_classes(steps) & set(self.detector_classes)):
            return f"detected {', '.join(hit)}"
        return None


class Policy(BaseModel):
    """One version of the review policy."""

    model_config = ConfigDict(extra="forbid")

    auto_approve_min_confidence: float | None = Field(
        None, ge=0, le=1, description="Drafts at or above this confidence, with no flag, are approved by rule. None: never.")
    honour_job_auto_approve: bool = Field(
        True, description="Master switch for jobs' own requests: False ignores every auto_approve=true.")
    auto_approve_case_kinds: list[str] = Field(
        default_factory=list, description="Case kinds (e.g. 'ocr', 'asr+ocr'; '*' for any) where a job submitted with "
        "auto_approve=true and no flag is approved by rule. Empty (the default): a job's request counts nowhere.")
    always_review_tools: list[str] = Field(default_factory=list, description="Jobs using any of these tools always go to a person.")
    always_review_questions: list[str] = Field(
        default_factory=list, description="Regular expressions; a matching question always goes to a person.")
    audit_rate: float = Field(0.05, ge=0, le=1, description="Share of would-be-automatic jobs sent to a person anyway.")
    paused_case_kinds: dict[str, str] = Field(
        default_factory=dict, description="Case kind → why automation is paused for it (set by audit disagreements).")
    require_fingerprint: bool = Field(
        True, description="A decision through the API must carry the job's `fingerprint` (what the reviewer saw). "
        "False lets clients that predate fingerprints decide without one (existing installs keep working).")
    two_person: list[TwoPersonRule] = Field(
        default_factory=list, description="Rules requiring several distinct reviewers' approvals (the most any "
        "matching rule asks for applies).")
    detector_class_min_confidence: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="Detector class → confidence a detection needs to be taken as a fact "
        "(e.g. {'Fall': 0.8}); below it the detection is flagged for a person. Wins over JIMOKU_ALARM_FLOOR.")
    ocr_line_min_confidence: float | None = Field(
        None, ge=0, le=1, description="OCR lines below this confidence count as unread (not evidence). None: all lines.")

    def pattern_problems(self) -> list[str]:
        """Why any of `always_review_questions` cannot be used: it does not compile, is over 500
        characters, or takes over `PATTERN_SECONDS` on a long run of one character that it names
        (catastrophic backtracking, e.g. `(a+)+$`). Checked when a policy is written, not when one
        is read back, so a stored policy always loads."""
        problems: list[str] = []
        for pattern in self.always_review_questions:
            if len(pattern) > 500:
                problems.append(f"pattern {pattern[:40]!r}… is {len(pattern)} characters; the limit is 500")
                continue
            try:
                compiled = regex.compile(pattern, regex.I)
            except (regex.error, ValueError, OverflowError) as exc:
                problems.append(f"pattern {pattern!r} is not a valid regular expression: {exc}")
                continue
            chars = sorted({c for c in pattern if c.isalnum() or c in " -_.:/#"} | {"a", "0", " "})[:24]
            for c in chars:
                try:
                    compiled.search(c * _PROBE_CHARS + "\x01", timeout=PATTERN_SECONDS)
                except TimeoutError:
                    problems.append(f"pattern {pattern!r} takes over {PATTERN_SECONDS:g} s on a question of "
                                    f"{_PROBE_CHARS} {c!r} characters (catastrophic backtracking); simplify it")
                    break
        return problems


class Routing(BaseModel):
    """The policy's decision for one job, stored in the job's state."""

    route: str = Field(description="'human' or 'auto'")
    audit: bool = False
    reasons: list[str]
    case_kind: str
    policy_version: int


def case_kind(steps: Sequence[dict[str, Any]]) -> str:
    """What kind of case a job is, by the tools that produced its evidence: "asr+ocr"."""
    return "+".join(sorted({s["tool"] for s in steps})) or "none"


def detected_classes(steps: Sequence[dict[str, Any]]) -> set[str]:
    """Detector classes found in the evidence."""
    return {str(d.get("class_name")) for s in steps for d in (s.get("result") or {}).get("detections", [])
            if d.get("class_name")}


def approvals_needed(policy: Policy, state: dict[str, Any]) -> tuple[int, list[str]]:
    """How many distinct reviewers must approve this job (1 unless a two-person rule matches), and why."""
    needed, why = 1, []
    for rule in policy.two_person:
        if (reason := rule.reason(state)) is not None:
            needed = max(needed, rule.approvals)
            why.append(f"{rule.approvals} approvals: {reason}")
    return needed, why


def drop_unread_lines(result: dict[str, Any], floor: float) -> tuple[dict[str, Any], int]:
    """An OCR result with its lines below `floor` taken out of the text the checks and the draft
    read (kept, marked, in `unread_lines`, so the reviewer still sees them); and how many."""
    pages = result.get("pages")
    if not isinstance(pages, list) or not any(isinstance(p, dict) and p.get("lines") for p in pages):
        return result, 0
    unread = [{"page": p.get("page"), "text": line.get("text"), "confidence": line.get("confidence")}
              for p in pages for line in p.get("lines") or [] if float(line.get("confidence") or 0) < floor]
    if not unread:
        return result, 0
    text = "\n\n".join("\n".join(line["text"] for line in p.get("lines") or []
                                  if float(line.get("confidence") or 0) >= floor) for p in pages)
    return {**result, "text": text.strip(), "unread_lines": unread, "unread_floor": floor}, len(unread)


def uncertain_floor(class_name: str, alarm_classes: frozenset[str], alarm_floor: float,
                    class_floors: dict[str, float]) -> float | None:
    """The confidence a detection of `class_name` needs to be taken as a fact: the policy's value for
    the class when set (it wins over the service's alarm floor), else the alarm floor for alarm
    classes, else None (any confidence)."""
    if class_name in class_floors:
        return class_floors[class_name]
    return alarm_floor if class_name in alarm_classes else None


def _in_sample(job_id: str, rate: float) -> bool:
    digest = hashlib.sha256(job_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def route(policy: Policy, version: int, state: dict[str, Any]) -> Routing:
    """Decide for one job (deterministic for the same job and policy)."""
    kind = case_kind(state.get("steps", []))
    human: list[str] = []
    if state.get("flags"):
        human.append(f"{len(state['flags'])} flag(s): " + ", ".join(sorted({f['kind'] for f in state['flags']})))
    used = {s["tool"] for s in state.get("steps", [])}
    if hit := sorted(used & set(policy.always_review_tools)):
        human.append(f"tools always reviewed: {', '.join(hit)}")
    for pattern in policy.always_review_questions:
        try:
            if regex.search(pattern, state.get("question", ""), regex.I, timeout=PATTERN_SECONDS):
                human.append(f"question matches {pattern!r}")
        except TimeoutError:  # fail safe: a person looks
            human.append(f"question pattern {pattern!r} took over {PATTERN_SECONDS:g} s")
        except (regex.error, ValueError, OverflowError):  # stored before patterns were checked on write
            human.append(f"question pattern {pattern!r} is not a valid regular expression")
    if (needed := approvals_needed(policy, state))[0] > 1:  # never automatic: it needs several people
        human.append(f"needs {needed[0]} reviewers ({'; '.join(needed[1])})")
    if kind in policy.paused_case_kinds:
        human.append(f"automation paused for {kind}: {policy.paused_case_kinds[kind]}")
    confidence = state.get("confidence") or 0.0
    threshold = policy.auto_approve_min_confidence
    allowed: list[str] = []
    refused = None  # a job's own request the policy does not honour for this kind of case
    if state.get("auto_approve"):
        if policy.honour_job_auto_approve and (kind in policy.auto_approve_case_kinds
                                               or "*" in policy.auto_approve_case_kinds):
            allowed.append(f"the job asked for auto-approval, allowed for {kind}")
        else:
            refused = f"the job asked for auto-approval; the policy does not allow it for {kind}"
    if threshold is not None and confidence >= threshold:
        allowed.append(f"confidence {confidence:.2f} ≥ {threshold:.2f}")
    if not allowed:
        human.append(refused or ("no rule allows automatic approval" if threshold is None
                                 else f"confidence {confidence:.2f} < {threshold:.2f}"))
    if human:
        return Routing(route="human", reasons=human, case_kind=kind, policy_version=version)
    if _in_sample(state.get("job_id", ""), policy.audit_rate):
        return Routing(route="human", audit=True, case_kind=kind, policy_version=version,
                       reasons=[*allowed, f"drawn for audit ({policy.audit_rate:.0%} sample)"])
    return Routing(route="auto", reasons=allowed, case_kind=kind, policy_version=version)
