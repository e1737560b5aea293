"""The code's shape: one import name, imports only downstream (docs/architecture.md), fast start-up."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRODUCT = ("__init__.py", "__main__.py", "host", "sensors", "calibration", "firmware")


def lint_imports(config: Path, package_parent: Path | None = None) -> subprocess.CompletedProcess:
    """import-linter on the installed `tiltguard`, or on the copy found in `package_parent` (ahead of it)."""
    path = "" if package_parent is None else "sys.path.insert(0, %r); " % str(package_parent)
    code = ("import sys; %ssys.argv = ['lint-imports', '--config', %r, '--no-cache'];"
            "from importlinter.cli import lint_imports_command; lint_imports_command()" % (path, str(config)))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def copy_of_the_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "tiltguard"
    pkg.mkdir()
    for name in PRODUCT:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, pkg / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, pkg / name)
    return pkg


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter", reason="import-linter not installed: pip install -e '.[test]'")
    proc = lint_imports(REPO / "pyproject.toml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Contracts: 4 kept, 0 broken." in proc.stdout


@pytest.mark.parametrize("importer, imported, contract", [
    # orientation reaching up into the report: a stage importing a later one
    ("host/orientation/quaternion.py", "tiltguard.host.report.catalogue", "Imports flow only downstream"),
    # the device's drivers importing the host
    ("sensors/base.py", "tiltguard.host.samples", "Imports flow only downstream"),
    # a stage taking its input from the simulator
    ("host/gait/cadence.py", "tiltguard.host.simulator.truth", "never an input to a stage"),
    # the pipeline reaching for scoring code that is not installed with the product
    ("host/analysis.py", "tiltguard_eval.gait_scoring", "never imports evaluation code"),
])
def test_an_injected_back_edge_breaks_the_contract(tmp_path, importer, imported, contract):
    pytest.importorskip("importlinter", reason="import-linter not installed: pip install -e '.[test]'")
    pkg = copy_of_the_package(tmp_path)
    with open(pkg / importer, "a") as f:
        f.write(f"\nimport {imported}  # injected back-edge\n")
    proc = lint_imports(REPO / "pyproject.toml", tmp_path)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert contract in proc.stdout and "BROKEN" in proc.stdout
    assert importer.replace("/", ".").removesuffix(".py") in proc.stdout


def _stage_of(module: str) -> str:
    """calibration, firmware and sensors are one stage each; host/ is a folder of stages."""
    parts = module.split(".")
    if parts[1] == "host" and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def test_no_import_cycle_between_stages_calibration_included():
    """The contracts check cycles inside each folder; here calibration against every host stage as well."""
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter: pip install -e '.[test]'")
    graph = grimp.build_graph("tiltguard")
    edges: dict[str, set[str]] = {}
    for m in graph.modules:
        if m.count(".") < 1:
            continue
        for imported in graph.find_modules_directly_imported_by(m):
            if imported.startswith("tiltguard.") and _stage_of(imported) != _stage_of(m):
                edges.setdefault(_stage_of(m), set()).add(_stage_of(imported))
    seen, on_path = set(), []

    def visit(node):
        if node in on_path:
            cycle = on_path[on_path.index(node):] + [node]
            raise AssertionError("import cycle between stages: " + " -> ".join(cycle))
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt)
        on_path.pop()

    for node in sorted(edges):
        visit(node)
    assert "tiltguard.calibration" in edges and "tiltguard.host.orientation" in edges["tiltguard.calibration"]


def test_help_loads_no_numerics_no_simulator_no_gui():
    code = ("import sys, contextlib, io\nfrom tiltguard.host import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        cli.main(['--help'])\n    except SystemExit:\n        pass\n"
            "print(' '.join(sorted(sys.modules)))")
    mods = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    heavy = {"numpy", "scipy", "matplotlib", "PySide6", "vqf", "ahrs", "bleak", "sqlite3",
             "tiltguard.host.simulator", "tiltguard.host.analysis", "tiltguard_eval"}
    assert not heavy & mods, sorted(heavy & mods)


def test_the_wheel_holds_tiltguard_only(tmp_path):
    """Built from this checkout; its RECORD lists every file: one top-level package, no tests, benches or
    evaluation code, and the device never receives host-only code (checked by the firmware tests)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and "No matching distribution" in proc.stderr:
        pytest.skip("cannot fetch the build backend (setuptools) from the package index: " + proc.stderr[-200:])
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel, = tmp_path.glob("tiltguard-*.whl")
    with zipfile.ZipFile(wheel) as z:
        record_name, = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
        files = [line.split(",")[0] for line in z.read(record_name).decode().splitlines() if line]
    tops = {f.split("/")[0] for f in files}
    assert tops == {"tiltguard", record_name.split("/")[0]}, tops
    assert "tiltguard/host/cli.py" in files and "tiltguard/firmware/app.py" in files
    assert "tiltguard/host/flags/advice.toml" in files
    assert not [f for f in files if "/tests/" in f or "/bench/" in f or "tiltguard_eval" in f]
    folders = {str(p.parent.relative_to(REPO)).replace("/", ".") for name in PRODUCT[2:]
               for p in (REPO / name).rglob("__init__.py")}
    packaged = {f.rsplit("/", 1)[0].replace("/", ".").removeprefix("tiltguard.") for f in files
                if f.endswith("/__init__.py")}
    assert folders == packaged - {"tiltguard"}, "pyproject's package list and the folders differ"
