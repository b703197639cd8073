() => {
  // Clicks "Colorize" when an edit of the editor ends: a stroke, undo, redo or clear (docs/app.md).
  const EDITS = "canvas, button[aria-label*='Undo'], button[aria-label*='Redo'], " +
                "button[aria-label*='Clear']";
  let armed = null, timer = null;
  const colorize = () => {
    clearTimeout(timer);
    timer = setTimeout(() => document.querySelector("#colorize")?.click(), 60);
  };
  document.addEventListener("pointerdown", (event) => {
    armed = event.target.closest?.("#editor") && event.target.closest(EDITS);
  }, true);
  document.addEventListener("pointerup", () => {
    if (!armed) return;
    // after the editor's own pointerup handlers (the stroke's commit) have run
    if (armed.tagName === "CANVAS") setTimeout(() => globalThis.colorizePauseEditors?.(), 0);
    armed = null;
    colorize();
  }, true);
  document.addEventListener("keyup", (event) => {
    if ((event.ctrlKey || event.metaKey) && "zy".includes(event.key.toLowerCase())) colorize();
  }, true);
}
