// Review page: an uploaded file as the reviewer sees it — the photo on a stage that overlays
// can draw on, the recording in a player, the PDF as a link. The evidence renderers
// (evidence.js) add their readings to what these return.

import { el } from "../common.js";

/** The photo, on a stage for overlays, with a row for the overlays' switches under it. */
export function renderImage(card, loadUrl) {
  const img = el("img", { alt: "uploaded photo" });
  const stage = el("div", { class: "stage", data: { ocr: "lines", det: "on" } }, img);
  const figure = el("figure", { class: "figure", data: { boxesDrawn: "0", ocrBoxes: "0" } }, stage);
  const controls = el("div", { class: "overlay-controls" });
  figure.append(controls);
  card.append(figure);
  loadUrl()
    .then((url) => (img.src = url))
    .catch((e) => figure.append(el("p", { class: "step-error" }, `Could not load the image: ${e.message}`)));
  return { figure, stage, controls, img };
}

export function renderAudio(card, loadUrl) {
  const audio = el("audio", { controls: true, preload: "metadata", class: "player" });
  card.append(audio);
  loadUrl()
    .then((url) => (audio.src = url))
    .catch((e) => card.append(el("p", { class: "step-error" }, `Could not load the recording: ${e.message}`)));
  return audio;
}

export function renderDocument(card, file, loadUrl) {
  const links = el("p", { class: "doc-links" }, el("span", { class: "muted" }, "loading…"));
  card.append(links);
  loadUrl("application/pdf")
    .then((url) => links.replaceChildren(
      el("a", { href: url, target: "_blank", rel: "noopener" }, "Open the PDF"), " · ",
      el("a", { href: url, download: file.name }, "download")))
    .catch((e) => links.replaceChildren(el("span", { class: "step-error" }, `Could not load the PDF: ${e.message}`)));
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
