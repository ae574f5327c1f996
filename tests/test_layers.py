"""The import rules of README's "Layers" table, checked on the source: imports point inward only.

Every `import` and `from ... import` counts, including those inside functions (the lazy ones), so a command
module that imports a layer above it fails here even if that line rarely runs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "emolens"

#: Each top-level module or package of emolens and its layer; a group may import groups of lower layers only.
LAYERS: dict[str, int] = {
    "types": 1, "errors": 1, "labels": 1, "modelmeta": 1, "hints": 1, "framerate": 1,
    "preprocess": 2,
    "data": 3, "nn": 3, "runtime": 3, "io": 3, "render": 3,
    "api": 4, "video": 4, "evaluate": 4, "report_files": 4, "batch": 4,
    "cli": 5, "web": 5, "__main__": 5,
}  # fmt: skip
#: The imports allowed between groups of one layer (importer, imported); anything else within a layer is refused.
SIBLINGS = {
    ("labels", "types"),
    ("nn", "data"),
    ("data", "io"),  # the image suffixes a dataset folder is searched for (io/media)
    ("video", "api"),
    ("report_files", "evaluate"),
    ("batch", "api"),
    ("batch", "video"),  # batch's worker runs videos through the one frame loop (video.run)
    ("cli", "web"),  # `emolens serve` starts the web app
    ("__main__", "cli"),  # `python -m emolens` is the command
}
#: Third-party packages that only some groups may import: torch for training, the web stack for the server.
CONFINED = {
    "torch": {"data", "nn", "evaluate", "report_files", "cli"},
    "onnx": {"nn"},
    "gradio": {"web"},
    "fastapi": {"web"},
    "uvicorn": {"web", "cli"},
    "ray": {"batch"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """Whether `name` (emolens.x.y) is a module or package of the source tree, not a name defined in one."""
    parts = name.split(".")
    if parts[0] != "emolens":
        return False
    base = PACKAGE.joinpath(*parts[1:])
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved; `from emolens import
    modelmeta` counts as an import of emolens.modelmeta (a module), `from emolens import Box` as one of emolens."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.append((node.lineno, submodule if _is_module(submodule) else source))
    return found


def _group(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "emolens" and len(parts) > 1 else None


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if _group(_module_name(p)) is not None)


def test_every_module_has_a_layer() -> None:
    groups = {_group(_module_name(p)) for p in SOURCES}
    assert groups - set(LAYERS) == set(), "add new modules to LAYERS here and to README's Layers table"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_inward(path: Path) -> None:
    importer = _group(_module_name(path))
    assert importer is not None
    wrong = []
    for line, module in _imports(path):
        imported = _group(module)
        top = module.split(".")[0]
        if imported is not None and imported != importer:
            lower = LAYERS[imported] < LAYERS[importer]
            if not lower and (importer, imported) not in SIBLINGS:
                wrong.append(f"line {line}: {importer} (layer {LAYERS[importer]}) imports {module}")
        if top in CONFINED and importer not in CONFINED[top]:
            wrong.append(f"line {line}: {importer} imports {top}, which only {sorted(CONFINED[top])} may")
    assert not wrong, "\n".join(wrong)


def test_every_allowed_sibling_import_exists() -> None:
    # An allowed edge that no import uses is a hole in the rules: remove it from SIBLINGS.
    used = set()
    for path in SOURCES:
        importer = _group(_module_name(path))
        for _, module in _imports(path):
            imported = _group(module)
            if imported is not None and imported != importer and LAYERS[imported] == LAYERS[importer]:
                used.add((importer, imported))
    assert SIBLINGS - used == set()


def test_from_package_imports_count_as_module_imports() -> None:
    # `from emolens import modelmeta` imports the modelmeta module; `from emolens import Box` a name of emolens.
    imported = {module for _, module in _imports(PACKAGE / "runtime" / "classifier.py")}
    assert "emolens.modelmeta" in imported and "emolens" not in imported
    assert _is_module("emolens.render") and _is_module("emolens.modelmeta") and not _is_module("emolens.Box")


def test_readme_layers_table_matches() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Layers") :]
    rows = re.findall(r"^\| (\d) \| (.+?) \|", table, flags=re.MULTILINE)
    listed = {
        name.removesuffix(".py").removesuffix("/"): int(layer)
        for layer, cell in rows
        for name in re.findall(r"`([^`]+)`", cell)
    }
    assert listed == LAYERS
