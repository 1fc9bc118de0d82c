"""Train zkworker's demo model: a 64-32-ReLU-10 MLP on scikit-learn's 8x8 digits.

The data set ships inside scikit-learn (no download). The trained model is written as ONNX with
onnx.helper (Gemm, Relu, Gemm), with a symbolic batch dimension like any exporter's, plus one
held-out test image as an EZKL-style input file.

    pip install scikit-learn onnx numpy
    python3 examples/train_digits.py   # writes examples/digits/{digits.onnx,input.json,calibration.json}
"""

import json
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

OUT = pathlib.Path(__file__).resolve().parent / "digits"


def main() -> None:
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=7)
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", max_iter=600, random_state=7)
    clf.fit(x_train, y_train)
    print(f"test accuracy: {clf.score(x_test, y_test):.3f}")

    w1, w2 = (w.T.astype(np.float32) for w in clf.coefs_)  # [out, in] for transB=1
    b1, b2 = (b.astype(np.float32) for b in clf.intercepts_)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
            helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
            helper.make_node("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
        ],
        "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [
            numpy_helper.from_array(w1, "fc1.weight"),
            numpy_helper.from_array(b1, "fc1.bias"),
            numpy_helper.from_array(w2, "fc2.weight"),
            numpy_helper.from_array(b2, "fc2.bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkworker-examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    OUT.mkdir(exist_ok=True)
    onnx.save(model, OUT / "digits.onnx")

    sample = x_test[0]
    (OUT / "input.json").write_text(json.dumps({"input_data": [[round(float(v), 4) for v in sample]]}) + "\n")
    # Calibrate on a typical image that uses the full pixel range.
    calib = x_train[int(np.argmax(x_train.max(axis=1) + x_train.mean(axis=1)))]
    (OUT / "calibration.json").write_text(json.dumps({"input_data": [[round(float(v), 4) for v in calib]]}) + "\n")
    print(f"wrote {OUT}/digits.onnx; input.json is a '{y_test[0]}', predicted {clf.predict(sample[None])[0]}")


if __name__ == "__main__":
    main()
