"""How responsive is the desktop app?

Figures (offscreen Qt; each is a ratio against a baseline or a budget
measured or fixed in this run):

1. Start to usable window (a fresh process: import, build the main window,
   first paint) against a bare QMainWindow started the same way; and the
   same time against the 1.5 s budget of the issue.
2. One repaint of a 500-node workflow while panning and zooming, against
   a 50 ms frame budget (the 10-node figure is printed beside it).
3. The longest stall of the GUI thread while a workflow runs in the
   background (a 5 ms heartbeat timer measures the gaps), against the 50 ms
   budget, after the app's start-up warm-up has imported scikit-learn (an
   import on any thread holds the GIL for tens of milliseconds). The
   workflow: Import CSV of 100,000 rows (--short: 20,000) through split,
   normalize, train, score and evaluate.

    python bench/bench_gui.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from report import Figure, median, parse_args, print_figures, seconds, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

_START_APP = """
import time, os, sys
t0 = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from studio.gui.app import create_application
from studio.gui.main_window import MainWindow
from studio.gui.document import Document
from studio.engine import Engine, MemoryCache
from pathlib import Path
app = create_application()
window = MainWindow(Document.open(Path(sys.argv[1]), engine=Engine(cache=MemoryCache())))
window.show()
window.repaint()
app.processEvents()
print(time.perf_counter() - t0, 'tensorflow' in sys.modules)
"""

_START_BARE = """
import time, os
t0 = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow(); window.resize(1400, 860); window.show(); window.repaint()
app.processEvents()
print(time.perf_counter() - t0, False)
"""


def _process_time(code: str, *args: str) -> tuple[float, float, bool]:
    """Wall time of the whole process, and the time it measured itself."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, check=True, cwd=ROOT,
                            env={**os.environ, "AXON_STUDIO_RECOVERY_DIR": tempfile.mkdtemp()})
    wall = time.perf_counter() - start
    inner, tensorflow = result.stdout.split()[-2:]
    return wall, float(inner), tensorflow == "True"


def bench_start(repeats: int) -> list[Figure]:
    example = str(ROOT / "examples" / "breast_cancer_classification.axon.json")
    app_times, bare_times = [], []
    for _ in range(repeats):
        wall, _, tensorflow = _process_time(_START_APP, example)
        assert not tensorflow, "the GUI start imported TensorFlow"
        app_times.append(wall)
        bare_times.append(_process_time(_START_BARE)[0])
    app, bare = median(app_times), median(bare_times)
    print(f"start to usable window: app {seconds(app)}, bare Qt window {seconds(bare)} "
          f"(whole processes, medians of {repeats})")
    return [Figure("GUI start vs 1.5 s budget", app, 1.5, 1.0,
                   "process start to first paint of the main window with an example open; "
                   f"a bare Qt window: {seconds(bare)}")]


def _big_workflow(count: int):  # type: ignore[no-untyped-def]
    from studio.workflow import Workflow

    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="n0", position=(0, 0))
    columns = 10
    for index in range(1, count):
        workflow.add_node("normalize_data", node_id=f"n{index}",
                          position=((index % columns) * 260, (index // columns) * 140))
        workflow.connect(f"n{index - 1}", "data", f"n{index}", "data")
    return workflow


def bench_canvas(repeats: int) -> list[Figure]:
    from PySide6.QtCore import QPointF

    from studio.engine import Engine, MemoryCache
    from studio.gui import warmup
    from studio.gui.app import create_application
    from studio.gui.document import Document
    from studio.gui.main_window import MainWindow

    app = create_application()
    warmup.start()  # as the app does after start-up: measure frames once it is over
    while not warmup.done.is_set():
        app.processEvents()
        time.sleep(0.001)
    frames: dict[int, float] = {}
    open_time = 0.0
    for count in (10, 500):
        start = time.perf_counter()
        window = MainWindow(Document(_big_workflow(count), engine=Engine(cache=MemoryCache())))
        window.show()
        app.processEvents()
        if count == 500:
            open_time = time.perf_counter() - start
        window.view.resetTransform()
        window.view.centerOn(QPointF(1200, 3000 if count == 500 else 0))
        samples = []
        for step in range(10 * repeats):
            start = time.perf_counter()
            if step % 2:
                window.view.zoom_by(1.1 if step % 4 == 1 else 1 / 1.1)
            else:
                bar = window.view.horizontalScrollBar()
                bar.setValue(bar.value() + (40 if step % 4 == 0 else -40))
            window.view.viewport().repaint()
            app.processEvents()
            samples.append(time.perf_counter() - start)
        window.view.fit_all()  # the whole 500-node graph on screen: the worst frame
        start = time.perf_counter()
        window.view.viewport().repaint()
        fit_frame = time.perf_counter() - start
        frames[count] = max(median(samples), 0.0)
        print(f"{count} nodes: pan/zoom frame {seconds(frames[count])} (median of "
              f"{len(samples)}), whole graph in view {seconds(fit_frame)}")
        window.document.undo_stack.setClean()
        window.close()
        app.processEvents()
    print(f"opening the 500-node workflow (model, scene, window): {seconds(open_time)}")
    return [Figure("pan/zoom frame, 500 nodes vs 50 ms", frames[500], 0.05, 1.0,
                   f"the same with 10 nodes: {seconds(frames[10])}")]


def bench_heartbeat(short: bool) -> list[Figure]:
    import numpy as np
    import pandas as pd
    from PySide6.QtCore import QElapsedTimer, QTimer

    from studio.engine import Engine, MemoryCache
    from studio.gui.app import create_application
    from studio.gui.document import Document
    from studio.gui.main_window import MainWindow
    from studio.workflow import Workflow

    rows = 20_000 if short else 100_000
    folder = Path(tempfile.mkdtemp(prefix="axon-gui-bench-"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 20)), columns=[f"x{i}" for i in range(20)])
    frame["label"] = (frame["x0"] + rng.normal(size=rows) > 0).astype(int)
    frame.to_csv(folder / "data.csv", index=False)
    workflow = Workflow()
    workflow.add_node("import_csv", {"path": str(folder / "data.csv"), "label_column": "label"},
                      node_id="data")
    workflow.add_node("split_data", node_id="split")
    workflow.add_node("normalize_data", node_id="normalize")
    workflow.add_node("apply_transformation", node_id="apply")
    workflow.add_node("logistic_regression", node_id="learner")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.add_node("evaluate_model", node_id="evaluate")
    for wire in ("data.data split.data", "split.train normalize.data",
                 "normalize.transform apply.transform", "split.test apply.data",
                 "learner.learner train.learner", "normalize.data train.data",
                 "train.model score.model", "apply.data score.data",
                 "score.scored evaluate.scored"):
        (source, source_port), (target, target_port) = (p.split(".") for p in wire.split())
        workflow.connect(source, source_port, target, target_port)

    from studio.gui import warmup

    app = create_application()
    window = MainWindow(Document(workflow, engine=Engine(cache=MemoryCache())))
    window.show()
    warmup.start()  # what the app does 200 ms after its window appears
    while not warmup.done.is_set():
        app.processEvents()
        time.sleep(0.001)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append((now - last[0]) / 1000)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(5)
    start = time.perf_counter()
    window.run_all()
    while window.runner.busy or not window.act_run.isEnabled():
        app.processEvents()
        time.sleep(0.001)
    run_time = time.perf_counter() - start
    timer.stop()
    states = {item.state.value for item in window.scene.nodes.values()}
    window.close()
    worst = max(gaps) if gaps else 0.0
    print(f"run of {rows:,} rows took {seconds(run_time)} in the background; "
          f"{len(gaps)} heartbeats, longest GUI-thread gap {seconds(worst)}; states {states}")
    return [Figure("GUI thread longest stall during a run vs 50 ms", worst, 0.05, 1.0,
                   f"{rows:,}-row workflow running in the background")]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    figures = bench_start(args.repeats)
    figures += bench_canvas(args.repeats)
    figures += bench_heartbeat(args.short)
    print()
    print_figures(figures)
    write_results(args.results, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
