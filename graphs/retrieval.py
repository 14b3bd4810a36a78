"""The evidence lines relevant to the question, each with a citation id, for the draft.

A 30-page PDF or a long transcript is far more than the 1.5B drafting model can read in
its context (the step summary is clipped at ~1500 characters, so page 27 never reaches
it). Every line of evidence is cut out with where it came from (`Line.ref`, e.g.
"s1:p27:l4"), and the lines sharing the most terms with the question are handed over
instead, with a line of context either side.

Ranking is BM25 in SQLite FTS5 (the stdlib `sqlite3`; this Python's SQLite 3.40 has it),
over text tokenized here rather than by FTS5: unicode61 alone would keep a Japanese
sentence as one token, so NFKC + casefold, ASCII-ish words and numbers, and CJK runs cut
into character bigrams are joined by spaces and unicode61 only splits on those spaces.
If a Python's SQLite lacks FTS5, an in-code BM25 (k1=1.2, b=0.75) ranks the same tokens.
"""

from __future__ import annotations

import math
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field

from graphs.state import StepResult

# Kana, CJK ideographs (with 々) and the katakana long-vowel mark: runs of these carry no
# spaces between words, so they are cut into bigrams. CJK punctuation (、。「」) separates.
CJK_LETTERS = r"\u3005\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A decimal number is one term ("10.00", not "10" and "00": the "00" of every "36.00V" in a
# manual would otherwise match); otherwise letters and digits. CJK runs are cut out below.
_RUN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # "110,000" is the term "110000"
_CJK_RUN = re.compile(rf"([{CJK_LETTERS}]+)")
# Question words only: labels and codes ("model", "serial", "no", "volt") must count, so
# the list stays small and holds none of them.
_STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "please", "say", "says", "said", "tell", "than", "that", "the", "their", "there", "these", "this", "those", "to", "was", "were", "what", "when", "where", "which", "who", "whom", "whose", "why", "will", "with", "would", "you", "your",
     "s", "t"]  # what is left of "supply's" and "don't"
)
_K1, _B = 1.2, 0.75
_LETTERS_DIGITS = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")  # "10.00v" → "10.00 v"
_SUFFIXES = (("sses", "ss"), ("ies", "y"), ("ing", ""), ("ed", ""), ("s", ""))
# A question asking for a quantity (English and Japanese): its answer is a number.
_QUANTITY = re.compile(
    r"how (?:many|much|long|far|old|heavy|big|fast)|\b(?:range|number|total|amount|year|date|temperature|"
    r"voltage|current|pressure|frequency|price|cost|weight|size|capacity|rate|speed|percent(?:age)?|"
    r"reading|value|phone)\b|何(?:月|年|日|人|個|回|台|本|枚|円|度|時|番)|いくら|いくつ|温度|電圧|価格|費用|番号|"
    r"数|量", re.I)
VALUE_BOOST = 2.0
"""A question asking for a quantity prefers lines holding a number, two to one: in a data
sheet the answer is "Operating 10°C to 50°C", not the prose repeating the question's words."""


# British spellings a question may use for the American ones a manual, a receipt or Whisper
# prints (Whisper writes "favorite" and "color"); a word starting with one is respelt.
_BRITISH = {"colour": "color", "favour": "favor", "flavour": "flavor", "behaviour": "behavior",
            "harbour": "harbor", "labour": "labor", "neighbour": "neighbor", "honour": "honor",
            "humour": "humor", "odour": "odor", "vapour": "vapor", "armour": "armor", "rumour": "rumor",
            "savour": "savor", "metre": "meter", "litre": "liter", "centre": "center", "fibre": "fiber",
            "aluminium": "aluminum", "grey": "gray", "tyre": "tire", "sulphur": "sulfur",
            "catalogue": "catalog", "programme": "program", "analyse": "analyze", "organis": "organiz"}
_BRITISH_ROOT = re.compile("^(?:" + "|".join(sorted(_BRITISH, key=len, reverse=True)) + ")")


def _stem(word: str) -> str:
    """A light English stem, the same for question and evidence: "sets" / "set", "holds" / "hold",
    "favourite" / "favorite"."""
    word = _BRITISH_ROOT.sub(lambda m: _BRITISH[m.group()], word)
    if len(word) >= 4 and word.isalpha() and not word.endswith("ss"):
        for suffix, replacement in _SUFFIXES:
            if word.endswith(suffix):
                stemmed = word[: -len(suffix)] + replacement
                return stemmed if len(stemmed) >= 3 else word
    return word


@dataclass(frozen=True)
class Line:
    """One line of evidence: an OCR or text-layer line, or a transcript segment."""

    step: str
    page: int | None
    """1-based page; None for a transcript or a result with only `text`."""
    line: int
    """1-based line within its page (its index + 1 in the page's `lines`); for a
    transcript, the 1-based segment index."""
    text: str
    start: float | None = None
    """Seconds from the start of the recording (transcripts only)."""
    end: float | None = None
    ref: str = field(init=False)
    """Citation id: "s1:p27:l4", "s1:l4" (text only) or "s2:t3" (transcript segment 3)."""

    def __post_init__(self) -> None:
        # A field, not a property, so that dataclasses.asdict (the job document) carries it.
        if self.start is not None:
            ref = f"{self.step}:t{self.line}"
        elif self.page is not None:
            ref = f"{self.step}:p{self.page}:l{self.line}"
        else:
            ref = f"{self.step}:l{self.line}"
        object.__setattr__(self, "ref", ref)


def evidence_lines(steps: Sequence[StepResult]) -> list[Line]:
    """Every line of evidence from the steps that succeeded, in document order.

    Keyed by what a step `produces`, not by tool name, so plugin tools count too: "text"
    gives `pages[].lines[]` (or the lines of `text` when there are no pages), "transcript"
    gives `segments[]`; other results (detections, reports) have no lines.
    """
    out: list[Line] = []
    for s in steps:
        result = s["result"] if s["ok"] else None
        if not isinstance(result, dict):
            continue
        sid = s["step"]
        if s.get("produces") == "transcript":
            for i, seg in enumerate(result.get("segments") or [], 1):
                if str(seg.get("text", "")).strip():
                    out.append(Line(sid, None, i, " ".join(str(seg["text"]).split()),
                                    float(seg["start"]), float(seg["end"])))
        elif s.get("produces") == "text":
            pages = result.get("pages") or []
            # Blank lines are skipped but still counted, so "l4" is lines[3] on the page.
            for n, page in enumerate(pages, 1):
                out += [Line(sid, int(page.get("page") or n), i, str(ln["text"]).strip())
                        for i, ln in enumerate(page.get("lines") or [], 1) if str(ln.get("text", "")).strip()]
            if not any(p.get("lines") for p in pages):
                out += [Line(sid, None, i, t.strip())
                        for i, t in enumerate(str(result.get("text") or "").splitlines(), 1) if t.strip()]
    return out


def tokens(text: str) -> list[str]:
    """Search terms: NFKC + casefold, words and numbers (no stopwords), CJK bigrams.

    NFKC makes full-width "ＡＸ－４４７１" and half-width kana match their usual forms; a
    one-character CJK run ("月" in "10月") stays a unigram so it is not lost.
    """
    out: list[str] = []
    normal = _LETTERS_DIGITS.sub(" ", _THOUSANDS.sub("", unicodedata.normalize("NFKC", text).casefold()))
    for run in _RUN.findall(normal):
        # Most runs are ASCII: splitting only the others keeps 1800 lines at a few ms.
        for i, part in enumerate([run] if run.isascii() else _CJK_RUN.split(run)):
            if i % 2:  # split() puts the captured CJK runs at odd positions
                out += [part] if len(part) == 1 else [part[j:j + 2] for j in range(len(part) - 1)]
            elif part and part not in _STOPWORDS:
                out.append(_stem(part))
    return out


def relevant_lines(question: str, lines: Sequence[Line], *, limit: int = 12, context: int = 1,
                   related: str = "") -> list[Line]:
    """The `limit` lines best matching the question (BM25), each with `context` lines either side.

    `related` is more text to search by: what the other files say about the question (a
    memo's "Tacos al pastor are my favorite" for "does the receipt include the dish the
    speaker names?"), so a question that links two files finds the lines of one that the
    other names. Neighbours come from the same step and page. The result is in document
    order without duplicates; all lines when there are no more than `limit`; empty when no
    line shares a term with the question (the caller then has only the step summaries).
    """
    if len(lines) <= limit:
        return list(lines)
    # Each term once: a repeat is no extra evidence.
    query = list(dict.fromkeys(tokens(question) + tokens(related)))
    # Lines are ranked (merging neighbours into passages let long neighbouring lines outrank
    # a short answer line in a Japanese flyer); each hit comes with `context` lines either
    # side from the same step and page.
    windows = [[j for j in range(max(0, i - context), min(len(lines), i + context + 1))
                if (lines[j].step, lines[j].page) == (lines[i].step, lines[i].page)] for i in range(len(lines))]
    docs = [tokens(ln.text) for ln in lines]
    wants_value = bool(_QUANTITY.search(unicodedata.normalize("NFKC", question)))
    weights = [VALUE_BOOST if wants_value and any(c.isdigit() for c in ln.text) else 1.0 for ln in lines]
    ranked = (_rank_fts5 if FTS5 else _rank_bm25)(docs, query, limit * (2 * context + 1), weights)
    keep: set[int] = set()
    chosen = 0
    for h in ranked:  # best first; a window overlapping one already taken adds nothing new
        if chosen == limit:
            break
        if not keep & set(windows[h]):
            keep.update(windows[h])
            chosen += 1
    return [lines[j] for j in sorted(keep)]


def render_lines(lines: Sequence[Line]) -> str:
    """The lines for the prompt, one a line: "[s1:p27:l4] Operating 10°C to 50°C"."""
    return "\n".join(
        f"[{ln.ref}] ({ln.start:.1f}-{ln.end:.1f} s) {ln.text}" if ln.start is not None and ln.end is not None
        else f"[{ln.ref}] {ln.text}" for ln in lines)


def _has_fts5() -> bool:
    try:
        with closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        return True
    except sqlite3.OperationalError:
        return False


FTS5 = _has_fts5()
"""Whether this Python's SQLite has FTS5 (else `_rank_bm25` ranks)."""


def _rank_fts5(docs: Sequence[Sequence[str]], query: Sequence[str], k: int,
               weights: Sequence[float] | None = None) -> list[int]:
    """Indices of the `k` best documents by FTS5's bm25() × weight, ties in document order."""
    if not query:
        return []
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(body, weight UNINDEXED, tokenize='unicode61')")
        db.executemany("INSERT INTO docs(rowid, body, weight) VALUES (?, ?, ?)",
                       ((i, " ".join(d), weights[i] if weights else 1.0) for i, d in enumerate(docs)))
        # Quoted terms: a token like "or" or "near" is a word to find, not an FTS5 operator.
        match = " OR ".join(f'"{t}"' for t in query)
        # bm25() is negative (lower is better), so a weight above 1 ranks a line higher.
        rows = db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) * weight, rowid LIMIT ?",
                          (match, k))
        return [r[0] for r in rows]


def _rank_bm25(docs: Sequence[Sequence[str]], query: Sequence[str], k: int,
               weights: Sequence[float] | None = None) -> list[int]:
    """The same ranking in Python: Okapi BM25 with a never-negative idf."""
    if not docs or not query:
        return []
    n, avgdl = len(docs), sum(map(len, docs)) / len(docs) or 1.0
    df = Counter(t for d in docs for t in set(d))
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in query if df[t]}
    scored: list[tuple[float, int]] = []
    for i, d in enumerate(docs):
        tf = Counter(d)
        score = sum(w * tf[t] * (_K1 + 1) / (tf[t] + _K1 * (1 - _B + _B * len(d) / avgdl))
                    for t, w in idf.items() if tf[t])
        if score > 0:
            scored.append((-score * (weights[i] if weights else 1.0), i))
    return [i for _, i in sorted(scored)[:k]]
