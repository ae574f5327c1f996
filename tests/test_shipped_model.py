"""The shipped models (`fast`, `accurate`) on the real FER2013 PrivateTest: the accuracy the README promises.

This test needs the TRAINED models at src/emolens/models/emolens-{fast,accurate}.onnx. On the untrained placeholder
it fails by design; it is not to be weakened, skipped or xfailed to make a placeholder pass.
"""

from __future__ import annotations

import json

import onnxruntime as ort
import pytest

from emolens.runtime.registry import SHIPPED_MODELS, model_path
from emolens.types import EMOTIONS
from support import run_emolens, shared_path

#: PrivateTest accuracy each shipped model must reach (FER2013's human accuracy is about 0.65). The model card
#: gives the measured figures; these floors sit a little below them.
MIN_PRIVATETEST_ACCURACY = {"fast": 0.70, "accurate": 0.70}
#: The issue's limit on a shipped model's file.
MAX_MODEL_MB = 20.0


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_is_small_and_carries_its_metadata(name: str) -> None:
    path = model_path(name)
    assert path.stat().st_size <= MAX_MODEL_MB * 1e6
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["emolens.labels"]) == list(EMOTIONS)
    assert meta["emolens.quantization"] == "int8-static-qdq"
    assert 0.5 < float(meta["emolens.temperature"]) < 2.0


@pytest.mark.trained_model
@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_reaches_its_accuracy_on_privatetest(name: str, request: pytest.FixtureRequest) -> None:
    data = shared_path("data", "fer2013", "fer2013.csv.xz")
    # The parsed csv is cached in pytest's own cache folder, so later runs skip the 35,887-row parse.
    pytest_cache = getattr(request.config, "cache", None)
    cache = pytest_cache.mkdir("emolens-xdg-cache") if pytest_cache else None
    env = {"XDG_CACHE_HOME": str(cache)} if cache else None
    done = run_emolens("eval", name, "--data", data, "--split", "PrivateTest", "--json", "--threads", "2", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 3589 and report["split"] == "PrivateTest"
    print(f"shipped model {name} on PrivateTest: accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}")
    assert report["accuracy"] >= MIN_PRIVATETEST_ACCURACY[name], (
        f"{report['model']}: PrivateTest accuracy {report['accuracy']:.4f} < {MIN_PRIVATETEST_ACCURACY[name]} "
        "(is the trained model in place of the placeholder?)"
    )
