// Review page: keyboard shortcuts — a approve (with the edit, if any), e edit the draft,
// r reject, n next job; Esc leaves a text field. Keys typed into a field stay text.

import { $ } from "../common.js";
import { t } from "../i18n.js";

/** Listen for the shortcut keys; `actions` maps each key ("a", "e", "n", "r") to what it does. */
export function setUpShortcuts(actions) {
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || $("app").hidden) return;
    const typing = ev.target instanceof Element && ev.target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const action = actions[ev.key];
    if (!action) return;
    ev.preventDefault(); // "e" must not type an e into the editor it focuses
    action();
  });
}

/** Put the cursor at the end of the draft editor. */
export function focusEditor() {
  const editor = $("answer");
  editor.focus();
  editor.setSelectionRange(editor.value.length, editor.value.length);
}

/** The shortcut help shown in the top bar. */
export const HELP = [
  ["a", t("shortcuts.approve")], ["e", t("shortcuts.edit")], ["r", t("shortcuts.reject")], ["n", t("shortcuts.next")],
  ["Esc", t("shortcuts.leave")],
];
