"""JupyterLab in a real browser: start a server, open a notebook in Chromium, run every cell.

Used by the browser test (`test_course_in_jupyterlab.py`) and by `make images`,
which redraws the README's pictures from `notebooks/guide/09-notebooks.ipynb`:

    python -m tests.browser.lab --images docs/img

The server listens on 127.0.0.1 with no token, its settings are the ones
`binder/postBuild` writes (plus every cell kept in the page, so all outputs can
be found), and the browser is the system's Chromium driven by Playwright
(Playwright's own browser downloads are not used).
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[2]

#: where Debian puts Chromium; DPNB_CHROMIUM overrides it
CHROMIUM = "/usr/bin/chromium"


def chromium_path():
    """The Chromium executable to drive, or None when there is none."""
    for candidate in (os.environ.get("DPNB_CHROMIUM"), CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(settings_dir):
    """JupyterLab user settings: binder/postBuild's, and every cell rendered (no windowing)."""
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings_dir))
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], env=env, check=True)
    notebook = Path(settings_dir) / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True, exist_ok=True)
    (notebook / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))


@contextlib.contextmanager
def jupyterlab(root_dir, work_dir, timeout=120):
    """A JupyterLab server on 127.0.0.1 without a token serving `root_dir`; yields its URL."""
    work_dir = Path(work_dir)
    settings = work_dir / "settings"
    write_settings(settings)
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(work_dir / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(work_dir / "runtime"),
    )
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root_dir}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(work_dir / "jupyterlab.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({proc.returncode}); see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within {timeout} s; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# JavaScript run in the page; `window.jupyterapp` is there thanks to expose_app_in_browser.
_NOTEBOOK_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return !!(w && w.content && w.content.widgets && w.sessionContext
              && w.sessionContext.session && w.sessionContext.session.kernel
              && w.sessionContext.session.kernel.connectionStatus === 'connected');
}"""
_ALL_RUN = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const cells = w.content.widgets.filter(c => c.model.type === 'code');
    const kernel = w.sessionContext.session.kernel;
    return kernel.status === 'idle' && cells.every(c => c.model.executionCount !== null);
}"""
_ERRORS = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const errors = [];
    for (const c of w.content.widgets) {
        if (c.model.type !== 'code') continue;
        for (const o of c.model.outputs.toJSON()) {
            if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue + '\\n' + c.model.sharedModel.getSource());
        }
    }
    return errors;
}"""
_OUTPUT_DATA = """([needle, mime]) => {
    const w = window.jupyterapp.shell.currentWidget;
    const cell = w.content.widgets.find(c => c.model.sharedModel.getSource().includes(needle));
    if (!cell) return null;
    for (const o of cell.model.outputs.toJSON()) {
        if (o.data && o.data[mime]) return o.data[mime];
    }
    return null;
}"""
_CELL_INDEX = """(needle) => {
    const w = window.jupyterapp.shell.currentWidget;
    return w.content.widgets.findIndex(c => c.model.sharedModel.getSource().includes(needle));
}"""


class Lab:
    """A page of JupyterLab with one notebook open (see `open_and_run`)."""

    def __init__(self, page, url):
        self.page = page
        self.url = url

    def open(self, path, timeout=120_000):
        self.page.goto(f"{self.url}/lab/tree/{path}")
        self.page.wait_for_function(_NOTEBOOK_READY, timeout=timeout)

    def command(self, name):
        self.page.evaluate(f"() => window.jupyterapp.commands.execute({json.dumps(name)})")

    def run_all(self, timeout=300_000):
        """Clear the stored outputs, run every cell, wait until the kernel is idle with every cell run."""
        self.command("notebook:clear-all-cell-outputs")
        self.page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.content.widgets"
            ".every(c => c.model.type !== 'code' || c.model.executionCount === null)"
        )
        self.command("notebook:run-all-cells")
        self.page.wait_for_function(_ALL_RUN, timeout=timeout, polling=500)
        self.page.wait_for_timeout(1000)  # widgets and images render after the kernel is idle

    def errors(self):
        return self.page.evaluate(_ERRORS)

    def output_data(self, needle, mime):
        """The `mime` data of the output of the first cell whose source contains `needle`."""
        data = self.page.evaluate(_OUTPUT_DATA, [needle, mime])
        if data is None:
            raise LookupError(f"no {mime} output in a cell containing {needle!r}")
        return "".join(data) if isinstance(data, list) else data

    def cell(self, needle):
        """The locator of the first cell whose source contains `needle`."""
        index = self.page.evaluate(_CELL_INDEX, needle)
        if index < 0:
            raise LookupError(f"no cell contains {needle!r}")
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)


@contextlib.contextmanager
def lab_page(work_dir, viewport=(1280, 1000)):
    """A `Lab` in headless Chromium against a fresh JupyterLab serving the repository."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium: apt-get install chromium (or set DPNB_CHROMIUM)")
    with jupyterlab(ROOT, work_dir) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield Lab(page, url)
        finally:
            browser.close()


def draw_images(out_dir, work_dir):
    """Redraw the README's pictures from `notebooks/guide/09-notebooks.ipynb` into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with lab_page(work_dir, viewport=(1700, 1000)) as lab:
        lab.open("notebooks/guide/09-notebooks.ipynb")
        lab.command("application:toggle-left-area")  # the file browser would take a third of the width
        lab.run_all()
        errors = lab.errors()
        if errors:
            raise RuntimeError("the notebook raised:\n" + "\n".join(errors))
        for needle, name in [("%%grad w b", "grad-magic"), ("explain(f, 1.0, 2.0)", "explain"),
                             ("explore(lambda", "explore")]:
            output = lab.cell(needle).locator(".jp-OutputArea-output").first
            output.scroll_into_view_if_needed()
            output.screenshot(path=str(out_dir / f"{name}.png"))
        # the SVG Graphviz drew in the kernel for the notebook's pullback_graph cell
        svg = lab.output_data("pullback_graph(f, 1.0, 2.0)", "image/svg+xml")
    (out_dir / "pullback-graph.svg").write_text(svg)
    return sorted(p.name for p in out_dir.iterdir())


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", metavar="DIR", required=True, help="where to write the README's pictures")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dpnb-lab-") as work:
        for name in draw_images(args.images, work):
            print(Path(args.images) / name)


if __name__ == "__main__":
    main()
