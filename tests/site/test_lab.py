"""The live face of an interactive figure in JupyterLab (what `make lab` gives a learner).

Starts JupyterLab on 127.0.0.1 over a copy of a small notebook that uses lib.interactive, runs it
in chromium, moves a slider with the keyboard and checks that the kernel redrew the image. Every
slider position of every chapter is also rendered at build time for the static twin, so this test
checks the one thing the build cannot: the widget's round trip through a live kernel.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


NOTEBOOK = {
    "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": "\n".join([
                   "from lib import plots",
                   "from lib.interactive import interactive, lr_slider",
                   "fig, ax = plots.new_figure(width=4, height=3)",
                   "plots.fix_axes(ax, (0, 1), (0, 1))",
                   "line = plots.trajectory_line(ax, 'SGD')",
                   "def update(lr):",
                   "    line.set_data([0, 1], [0, lr])",
                   "    return f'lr is {lr:g}'",
                   "interactive(fig, update, lr_slider(0.01, 1.0, 5, 0.1), alt='a line whose end is lr')"])}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    (tmp_path / "live.ipynb").write_text(json.dumps(NOTEBOOK))
    port, token = free_port(), "optbook-test-token"
    jupyter = Path(sys.executable).parent / "jupyter"
    process = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True",
         "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
                 JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime")))
    try:
        for _ in range(120):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/live.ipynb?token={token}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_slider_redraws_through_the_kernel(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(lab)
        page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')",
                               timeout=90000)
        page.wait_for_timeout(2000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        slider = page.locator(".widget-slider .noUi-handle, .widget-slider .slider-handle").first
        slider.wait_for(timeout=90000)
        image = page.locator(".widget-image").first
        readout = page.locator(".widget-html").first
        assert "lr is 0.1" in readout.inner_text()
        before = image.get_attribute("src")
        slider.click()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("el => !el.innerText.includes('lr is 0.1')",
                               arg=readout.element_handle(), timeout=30000)
        assert "lr is 0.3162" in readout.inner_text()      # the next value on the log grid
        page.wait_for_function("([el, old]) => el.getAttribute('src') !== old",
                               arg=[image.element_handle(), before], timeout=30000)
        shots = Path(__file__).resolve().parents[2] / "_build" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "jupyterlab.png"))
    finally:
        page.close()
