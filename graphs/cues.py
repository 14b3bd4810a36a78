"""What a question asks to be looked at in a picture: its text, or the people in it.

A photo can go to a text reader or to the detector, and asking the 1.5B planner to choose
costs 2–4 s of a job that is otherwise a few seconds. Most questions say which they mean
in plain words: "what is written on the sign", "the serial on this nameplate", "この看板",
against "how many people", "has anyone fallen", "倒れている人". When the words point one
way only, code chooses; when they point both ways or neither ("what is wrong here?"),
the planner does, as before.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Cue = Literal["text", "people"]

# Things that carry writing, and verbs of reading or writing.
_TEXT = re.compile(
    r"\b(?:read(?:s|ing)?|written|write|writing|printed|print|text|words?|letters?|characters?|"
    r"labell?ed|labels?|signs?|signpost|poster|plaque|plates?|nameplate|placard|notice|banner|"
    r"receipt|invoice|ticket|menu|page|document|drawing|sheet|datasheet|manual|form|card|flyer|leaflet|"
    r"brochure|screen|display|code|serial|model|part\s*(?:no|number)|title|heading)\b|"
    r"書|読|文字|表示|記載|印刷|看板|標識|銘板|ラベル|貼|札|チラシ|ポスター|用紙|書類|図面|画面|"
    r"番号|型式|形式|型番|名称",
    re.I,
)
# People, and what people do that a camera is asked about.
_PEOPLE = re.compile(
    r"\b(?:people|persons?|anyone|anybody|someone|somebody|everyone|everybody|nobody|no\s+one|"
    r"workers?|operators?|staff|men|man|women|woman|child(?:ren)?|crowd|pedestrians?|visitors?|"
    r"fall(?:en|s)?|fell|lying|collapsed|standing|sitting)\b|"
    r"人|誰|作業者|作業員|従業員|倒れ|転倒|横たわ",
    re.I,
)


def image_cue(question: str) -> Cue | None:
    """"text" or "people" when the question's words point to exactly one of them."""
    q = unicodedata.normalize("NFKC", question)
    text, people = bool(_TEXT.search(q)), bool(_PEOPLE.search(q))
    if text == people:
        return None
    return "text" if text else "people"
