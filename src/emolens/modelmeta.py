"""The keys of the metadata an emolens ONNX model carries, in one torch-free place.

`nn.export` writes them; `runtime.classifier` (and through it `evaluate`) reads them. Like timm's
pretrained config, they travel with the weights, so a model file says how it must be fed.
"""

from __future__ import annotations

#: JSON list of the class names, in output order; must equal `emolens.types.EMOTIONS`.
LABELS = "emolens.labels"
#: Side of the square input in pixels, and the normalisation: `emolens.preprocess` must agree with all three.
INPUT_SIZE = "emolens.input_size"
MEAN = "emolens.mean"
STD = "emolens.std"
#: Softmax temperature already applied inside the graph (fitted on PublicTest).
TEMPERATURE = "emolens.temperature"
#: What the graph is: an architecture name, or "ensemble[N x name]" with "+flip" for a mirror view.
ARCHITECTURE = "emolens.architecture"
MODEL_KWARGS = "emolens.model_kwargs"
BEST_EPOCH = "emolens.best_epoch"
PUBLICTEST_ACC = "emolens.PublicTest_acc"
#: Always "probabilities": the graph ends in a softmax.
OUTPUTS = "emolens.outputs"
#: An ensemble's members (JSON list) and the test-time augmentation inside the graph ("none" or "flip").
MEMBERS = "emolens.members"
TTA = "emolens.tta"
#: "int8-static-qdq" for a quantised model; absent for float32.
QUANTIZATION = "emolens.quantization"
