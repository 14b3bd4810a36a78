// Review page: an uploaded file as the reviewer sees it — the photo on a stage that overlays
// can draw on, the recording in a player, the PDF as a link. The evidence renderers
// (evidence.js) add their readings to what these return.

import { el } from "../common.js";
import { t } from "../i18n.js";

/** The photo, on a stage for overlays, with a row for the overlays' switches under it. */
export function renderImage(card, loadUrl) {
  const img = el("img", { alt: t("media.photo_alt") });
  const stage = el("div", { class: "stage", data: { ocr: "lines", det: "on" } }, img);
  const figure = el("figure", { class: "figure", data: { boxesDrawn: "0", ocrBoxes: "0" } }, stage);
  const controls = el("div", { class: "overlay-controls" });
  figure.append(controls);
  card.append(figure);
  loadUrl()
    .then((url) => (img.src = url))
    .catch((e) => figure.append(el("p", { class: "step-error" }, t("media.no_image", { error: e.message }))));
  return { figure, stage, controls, img };
}

export function renderAudio(card, loadUrl) {
  const audio = el("audio", { controls: true, preload: "metadata", class: "player" });
  card.append(audio);
  loadUrl()
    .then((url) => (audio.src = url))
    .catch((e) => card.append(el("p", { class: "step-error" }, t("media.no_audio", { error: e.message }))));
  return audio;
}

export function renderDocument(card, file, loadUrl) {
  const links = el("p", { class: "doc-links" }, el("span", { class: "muted" }, t("media.loading")));
  card.append(links);
  loadUrl("application/pdf")
    .then((url) => links.replaceChildren(
      el("a", { href: url, target: "_blank", rel: "noopener" }, t("media.open_pdf")), " · ",
      el("a", { href: url, download: file.name }, t("media.download"))))
    .catch((e) => links.replaceChildren(el("span", { class: "step-error" }, t("media.no_pdf", { error: e.message }))));
}

/** A box positioned in percent of the image's own size, so it follows any display size. */
export function boxAt([x0, y0, x1, y1], width, height, cls, props = {}, ...children) {
  const pc = (v) => `${(v * 100).toFixed(3)}%`;
  return el("div", {
    class: cls,
    style: { left: pc(x0 / width), top: pc(y0 / height), width: pc((x1 - x0) / width), height: pc((y1 - y0) / height) },
    ...props,
  }, ...children);
}

// Where a box's label may go, in order of preference: above the box (left or right aligned),
// then inside it at the top, then inside it at the bottom.
const LABEL_PLACES = [[], ["label-right"], ["label-in"], ["label-in", "label-right"], ["label-bottom"], ["label-bottom", "label-right"]];
const PLACE_CLASSES = ["label-right", "label-in", "label-bottom"];

/**
 * Keep the labels of a layer's boxes from covering each other: the boxes are in the layer
 * least important first, so each label, most important first, takes the first place that
 * stays on the image and covers no label already placed (else its preferred one). Labels have a fixed font size
 * while the image scales, so this runs again whenever the image is drawn at a new size.
 */
export function declutterLabels(layer, img) {
  const run = () => {
    if (!img.complete || !img.clientWidth) return;
    const frame = img.getBoundingClientRect();
    const fits = (r) => r.left >= frame.left - 2 && r.right <= frame.right + 2 && r.top >= frame.top && r.bottom <= frame.bottom;
    const placed = [];
    for (const box of [...layer.children].reverse()) {
      const label = box.querySelector(".label");
      if (!label) continue;
      const preferred = box.dataset.place ??= PLACE_CLASSES.filter((c) => box.classList.contains(c)).join(" ");
      const tryPlace = (classes) => {
        box.classList.remove(...PLACE_CLASSES);
        box.classList.add(...classes);
        return label.getBoundingClientRect();
      };
      const start = preferred ? preferred.split(" ") : [];
      const candidates = [start, ...LABEL_PLACES.filter((p) => p.join(" ") !== start.join(" "))];
      const free = candidates.find((classes) => {
        const r = tryPlace(classes);
        return fits(r) && !placed.some((p) => overlaps(p, r));
      });
      placed.push(tryPlace(free ?? start));
    }
  };
  // Fires once the image has its size (after loading) and whenever the size changes.
  new ResizeObserver(run).observe(img);
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
