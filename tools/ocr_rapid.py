"""RapidOCR (PP-OCRv6 on ONNX Runtime) for `ocr`: one page image in, one `OcrPage` out.

PP-OCR finds text lines anywhere in a photo (rotated, in perspective, small in a cluttered
scene, under uneven light) and reads each line with one recogniser covering Latin letters,
digits, kana and kanji. The detection, angle and recognition models ship inside the
`rapidocr` wheel (Apache-2.0); they are loaded from there by path, so nothing is ever
downloaded. One ONNX Runtime thread per call by default: on two shared cores it is faster
than two, and `ocr` may run two calls at once.

The recogniser learnt its kanji mostly from Chinese text, so on Japanese it sometimes
prints a simplified Chinese form (电 for 電, 压 for 圧); `japanese_forms` maps them back.
One recogniser reads both languages, so `ocr`'s `lang` does not change what it reads.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from tools.ocr_result import (
    SPACE_BETWEEN_CJK,
    Box,
    OcrLine,
    OcrPage,
    OcrWord,
    OutOfTime,
)

if TYPE_CHECKING:
    from rapidocr import RapidOCR

THREADS = 1
"""ONNX Runtime threads per call (intra- and inter-op)."""
DETECT_MAX_SIDE = 960
"""The detector sees the image with its longer side at most this (never enlarged): on the
photo-like plates this read every code, as did RapidOCR's default (shorter side enlarged
to 736), at half the time (bench/perception.py)."""

# Simplified Chinese forms PP-OCR prints for kanji whose Japanese form differs, mostly
# the vocabulary of nameplates and spec sheets. Only characters that are not themselves
# in Japanese use are listed (机, 准, 干, 台… are left alone: they are Japanese too).
_SIMPLIFIED = (
    "电压济动发产业变输额频过进间时对开关门车东说语读请认识证设备质检验测术线级组给经"
    "统纸红绿长风见现观规视负费资页顶项顺预领题颜类实应转轮软载连运还远选铁钢银铜锁错"
    "键镜针闭问闻阀险阳阴陆际环气热烧无乐务农华单卖买严两义举书亚亿价众传伤侧优减则创"
    "别剂劳势协历启员图圆场坏块报处头导层岁师带库废张弹录总恶户扩护择换损权极构标样桥"
    "欢污泽洁浓满灭爱疗监盖码础确离种积稳窗笔简紧约纪纯练细织终结绝继续维编缩网职胜脑"
    "节药获营补计订记许论访评试话详误调谢货购贸轴较边达适递遗邮闪队阶难饭馆驱鸣齐齿龙"
    "马鱼鸟飞贝贵查"
)
_JAPANESE = (
    "電圧済動発産業変輸額頻過進間時対開関門車東説語読請認識証設備質検験測術線級組給経"
    "統紙紅緑長風見現観規視負費資頁頂項順預領題顔類実応転輪軟載連運還遠選鉄鋼銀銅鎖錯"
    "鍵鏡針閉問聞閥険陽陰陸際環気熱焼無楽務農華単売買厳両義挙書亜億価衆伝傷側優減則創"
    "別剤労勢協歴啓員図円場壊塊報処頭導層歳師帯庫廃張弾録総悪戸拡護択換損権極構標様橋"
    "歓汚沢潔濃満滅愛療監蓋碼礎確離種積穏窓筆簡緊約紀純練細織終結絶継続維編縮網職勝脳"
    "節薬獲営補計訂記許論訪評試話詳誤調謝貨購貿軸較辺達適逓遺郵閃隊階難飯館駆鳴斉歯竜"
    "馬魚鳥飛貝貴査"
)
MAX_CONFIDENCE = 0.99
_TO_JAPANESE = str.maketrans(_SIMPLIFIED, _JAPANESE)

# In Japanese lines the recogniser drops the spaces between ratings ("200V60Hz"); put one
# back after a number's unit when another number follows, as Tesseract reads it.
_RATINGS_RUN_TOGETHER = re.compile(r"(?:(?<=\dV)|(?<=\dHz)|(?<=\dkW)|(?<=\dkVA))(?=\d)")

_engines: dict[int, RapidOCR] = {}
_load_lock = threading.Lock()


def japanese_forms(text: str) -> str:
    """`text` with simplified Chinese forms of kanji replaced by the Japanese ones."""
    return text.translate(_TO_JAPANESE)


def engine(threads: int = THREADS) -> RapidOCR:
    """The RapidOCR engine of this process (built once, models from the installed wheel)."""
    found = _engines.get(threads)
    if found is not None:
        return found
    with _load_lock:
        if threads not in _engines:
            _engines[threads] = _build(threads)
        return _engines[threads]


def _build(threads: int) -> RapidOCR:
    import rapidocr
    from rapidocr import RapidOCR

    models = Path(rapidocr.__file__).parent / "models"
    paths = {
        "Det.model_path": models / "PP-OCRv6_det_small.onnx",
        "Rec.model_path": models / "PP-OCRv6_rec_small.onnx",
        "Cls.model_path": models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise RuntimeError(
            f"RapidOCR's models are missing ({', '.join(missing)}); reinstall rapidocr: "
            "scripts/bootstrap.sh, or pip install --force-reinstall --no-deps rapidocr==3.10.0"
        )
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)  # it logs every model path it loads
    return RapidOCR(params={
        **{key: str(path) for key, path in paths.items()},
        "Global.log_level": "warning",
        "Global.return_word_box": True,
        "Det.limit_type": "max",
        "Det.limit_side_len": DETECT_MAX_SIDE,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": threads,
    })


def warm_up() -> None:
    """Load the three models now (they load lazily, on the first image that needs them)."""
    engine()(_probe_image())


def _probe_image() -> Image.Image:
    from PIL import ImageDraw

    img = Image.new("RGB", (320, 96), "white")
    ImageDraw.Draw(img).text((20, 40), "WARM UP 123", fill="black")
    return img.resize((640, 192))


def read_page(image: Image.Image, page: int, deadline: float) -> OcrPage:
    """Every text line RapidOCR finds in `image`, top to bottom, with words and boxes.

    Raises `OutOfTime` when there is less than a second left before `deadline` (a call
    cannot be stopped once started).
    """
    from rapidocr.utils.output import RapidOCROutput

    if deadline - time.monotonic() < 1:
        raise OutOfTime
    out = engine()(image.convert("RGB"))
    # With detection, classification and recognition all on (the defaults) RapidOCR returns
    # the combined output; a single stage's output comes back only when a later stage failed.
    assert isinstance(out, RapidOCROutput), f"RapidOCR returned only a {type(out).__name__}"
    lines: list[OcrLine] = []
    words: list[OcrWord] = []
    if out.txts is not None and out.boxes is not None and out.scores is not None and len(out.txts):
        per_line = _words_per_line(out)
        for polygon, raw, score, raw_words in zip(out.boxes, out.txts, out.scores, per_line, strict=True):
            text = _clean(raw)
            if not text:
                continue
            box = _box(polygon, image.size)
            line_words = _line_words(text, float(score), box, raw_words, image.size, len(lines))
            words += line_words
            lines.append(OcrLine(text=text, confidence=_unit(score), box=box))
    return OcrPage(
        page=page, source="ocr", engine="rapid", width=image.width, height=image.height,
        lines=lines, words=words,
    )


def _clean(raw: str) -> str:
    text = " ".join(raw.split())
    text = SPACE_BETWEEN_CJK.sub("", text)
    text = _RATINGS_RUN_TOGETHER.sub(" ", text)
    return japanese_forms(text)


def _unit(score: Any) -> float:
    # 1.0 means exact (a PDF's text layer); a reading of pixels never is, however sure
    # the recogniser (its scores reach 0.9999 on clean print).
    return round(min(MAX_CONFIDENCE, max(0.0, float(score))), 4)


def _words_per_line(out: Any) -> list[Any]:
    """RapidOCR's word results, one entry per line, or None per line when they do not align.

    It drops a line's word results when they are empty, so their count can differ from
    the lines'; then words are made from the line's text instead.
    """
    results = list(out.word_results or ())
    if len(results) == len(out.txts):
        return results
    return [None] * len(out.txts)


def _line_words(
    text: str, score: float, box: Box, raw_words: Any, size: tuple[int, int], line: int
) -> list[OcrWord]:
    """The words of one line: RapidOCR's own word boxes when it gave them, else the line's
    text split at spaces, each word boxed by its share of the line's width."""
    words: list[OcrWord] = []
    for item in raw_words or ():
        word_text, word_score, polygon = item
        word_text = _clean(word_text)
        if word_text and polygon is not None and word_text in text:
            words.append(OcrWord(
                text=word_text, confidence=_unit(word_score), box=_box(np.asarray(polygon), size), line=line,
            ))
    if words:
        return words
    return _split_words(text, score, box, line)


def _split_words(text: str, score: float, box: Box, line: int) -> list[OcrWord]:
    x0, y0, x1, y1 = box
    per_char = (x1 - x0) / max(len(text), 1)
    words: list[OcrWord] = []
    start = 0
    for part in text.split(" "):
        if part:
            a = x0 + math.floor(start * per_char)
            b = min(x1, x0 + math.ceil((start + len(part)) * per_char))
            words.append(OcrWord(text=part, confidence=_unit(score), box=(a, y0, max(b, a + 1), y1), line=line))
        start += len(part) + 1
    return words


def _box(polygon: Any, size: tuple[int, int]) -> Box:
    """The upright box around a (possibly rotated) quadrilateral, inside the image."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    width, height = size
    x0 = min(max(math.floor(points[:, 0].min()), 0), width - 1)
    y0 = min(max(math.floor(points[:, 1].min()), 0), height - 1)
    x1 = max(min(math.ceil(points[:, 0].max()), width), x0 + 1)
    y1 = max(min(math.ceil(points[:, 1].max()), height), y0 + 1)
    return (x0, y0, x1, y1)

