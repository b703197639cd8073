// Collects the editor's PixiJS applications through PixiJS's own init hook, so that the page can
// pause their redraw loops after a stroke (stroke_end.js; docs/app.md).
(() => {
  const apps = [], chained = globalThis.__PIXI_APP_INIT__;
  globalThis.__PIXI_APP_INIT__ = (app, version) => { apps.push(app); chained?.(app, version); };
  // draw each editor once more and stop its loop; its next pointer event starts it again
  globalThis.colorizePauseEditors = () => {
    for (const app of apps) {
      try {
        if (app.renderer && app.ticker?.started) { app.ticker.stop(); app.render(); }
      } catch (err) { console.warn("colorize: could not pause an editor's redraw loop", err); }
    }
    return apps.length;
  };
})();
