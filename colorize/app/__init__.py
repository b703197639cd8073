"""`colorize app`: a local web page to paint color hints over a sketch and watch it colorize.

    colorize app --run runs/C-... [--run runs/B-...] [--model generator.keras] [--port 7860]

A Gradio Blocks page on top of `colorize.infer.Colorizer`, in modules that import only those
above them:
- `limits`: the canvas's default size and the caps on uploads (no imports: `--help` is quick);
- `uploads`: the caps on uploaded files, checked from their headers, and the image and hint-layer
  readers behind them;
- `choices`: the runs and models the page offers, loaded once at start;
- `handlers`: the page's logic, numpy in and numpy out (tested without a browser);
- `components`: Gradio's upload components with the caps checked before Gradio decodes;
- `layout`: the page's components and its browser-side code (`browser/*.js`, `browser/*.css`);
- `wiring`: the layout wired to the handlers (`build_page`);
- `cli`: the command (`serve`, `run`) and the Gradio versions the page is tested with.
Nothing is written into run folders: saved hint layers and pictures go to a temporary folder of
this process. docs/app.md says how the page works around Gradio's image editor.
"""
