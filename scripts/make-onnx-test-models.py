#!/usr/bin/python3
"""Builds the small ONNX models the tests upload (tests/data/onnx/*.onnx), with the `onnx` package's helper API only
(Debian: python3-onnx). They stand in for models trained elsewhere and exported by skl2onnx / onnxmltools:

  logreg.onnx         a logistic regression over three named inputs age, balance, duration ([N,1] float each, matched
                      to Bank Marketing fields by name); sklearn-style outputs `label` [N] int64 and `probabilities` [N,2].
  tree_classifier.onnx  a three-tree ai.onnx.ml TreeEnsembleClassifier over one input `input` [N,3] float (age, duration,
                      campaign), averaged like a random forest; outputs `output_label` [N] int64 and `output_probability`
                      seq(map(int64, float)) through ZipMap, as skl2onnx writes them.
  tree_regressor.onnx   a two-tree TreeEnsembleRegressor over `input` [N,2] float (age, balance); output `variable` [N,1].
  logreg20.onnx       a logistic regression over one input `features` [N,20] float (bench/Onnx.Bench).
  bad_shape.onnx      an input of shape [N,2,3] (the portal cannot map a 3-D input to fields: it must refuse it).

Run: python3 scripts/make-onnx-test-models.py  (writes into tests/data/onnx/). The files are committed, so the tests
need no Python; re-run only to change the models.
"""
import os
import onnx
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "onnx")
OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]


def save(graph, name):
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="make-onnx-test-models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(OUT, name)
    onnx.save(model, path)
    print(f"{path}: {os.path.getsize(path)} bytes")


def f32(name, *shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def const(name, values, dims):
    return helper.make_tensor(name, TensorProto.FLOAT, dims, values)


def logreg():
    # p = sigmoid(w . ((x - mean) / std) + b), x = [age, balance, duration]
    mean, std = [41.0, 1360.0, 258.0], [10.6, 3045.0, 257.0]
    w, b = [0.12, 0.18, 1.05], -2.35
    nodes = [
        helper.make_node("Concat", ["age", "balance", "duration"], ["x"], axis=1),
        helper.make_node("Sub", ["x", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "std"], ["z"]),
        helper.make_node("MatMul", ["z", "w"], ["zw"]),
        helper.make_node("Add", ["zw", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "logreg",
        [f32("age", "N", 1), f32("balance", "N", 1), f32("duration", "N", 1)],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]), f32("probabilities", "N", 2)],
        [const("mean", mean, [3]), const("std", std, [3]), const("w", w, [3, 1]), const("b", [b], [1]), const("one", [1.0], [1])])
    save(graph, "logreg.onnx")


def tree_classifier():
    # Three depth-2 trees over [age, duration, campaign]; each leaf holds P(class 0), P(class 1) / 3 (averaged).
    trees = [  # (feature, threshold) of root, left child, right child; leaf probabilities of class 1 (4 leaves)
        ((1, 200.0), (0, 60.0), (1, 520.0), [0.05, 0.40, 0.30, 0.75]),
        ((1, 330.0), (2, 2.5), (0, 30.0), [0.14, 0.07, 0.62, 0.41]),
        ((0, 45.0), (1, 150.0), (1, 280.0), [0.06, 0.27, 0.09, 0.58]),
    ]
    attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids", "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for t, (root, left, right, leaves) in enumerate(trees):
        # node 0 root -> 1 (true, x <= v) / 2; node 1 -> 3 / 4; node 2 -> 5 / 6; leaves 3..6
        for node, (feat, val), yes, no in [(0, root, 1, 2), (1, left, 3, 4), (2, right, 5, 6)]:
            attrs["nodes_treeids"].append(t); attrs["nodes_nodeids"].append(node); attrs["nodes_featureids"].append(feat)
            attrs["nodes_values"].append(val); attrs["nodes_modes"].append("BRANCH_LEQ")
            attrs["nodes_truenodeids"].append(yes); attrs["nodes_falsenodeids"].append(no)
        for i, p in enumerate(leaves):
            node = 3 + i
            attrs["nodes_treeids"].append(t); attrs["nodes_nodeids"].append(node); attrs["nodes_featureids"].append(0)
            attrs["nodes_values"].append(0.0); attrs["nodes_modes"].append("LEAF")
            attrs["nodes_truenodeids"].append(0); attrs["nodes_falsenodeids"].append(0)
            for cls, weight in [(0, (1 - p) / len(trees)), (1, p / len(trees))]:
                attrs["class_treeids"].append(t); attrs["class_nodeids"].append(node)
                attrs["class_ids"].append(cls); attrs["class_weights"].append(weight)
    tree = helper.make_node("TreeEnsembleClassifier", ["input"], ["output_label", "probability_tensor"], domain="ai.onnx.ml",
                            classlabels_int64s=[0, 1], post_transform="NONE", **attrs)
    zipmap = helper.make_node("ZipMap", ["probability_tensor"], ["output_probability"], domain="ai.onnx.ml", classlabels_int64s=[0, 1])
    map_type = onnx.TypeProto()  # helper.make_map_type_proto is newer than onnx 1.12
    map_type.map_type.key_type = TensorProto.INT64
    map_type.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    seq_map = helper.make_sequence_type_proto(map_type)
    graph = helper.make_graph([tree, zipmap], "tree_classifier", [f32("input", "N", 3)],
                              [helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"]),
                               helper.make_value_info("output_probability", seq_map)])
    save(graph, "tree_classifier.onnx")


def tree_regressor():
    # Two trees over [age, balance]: a spend-like value.
    attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids", "target_treeids", "target_nodeids", "target_ids", "target_weights"]}
    for t, (feat, val, lo, hi) in enumerate([(0, 40.0, 120.0, 310.0), (1, 1000.0, 15.5, 240.25)]):
        for node, f, v, mode, yes, no in [(0, feat, val, "BRANCH_LEQ", 1, 2), (1, 0, 0.0, "LEAF", 0, 0), (2, 0, 0.0, "LEAF", 0, 0)]:
            attrs["nodes_treeids"].append(t); attrs["nodes_nodeids"].append(node); attrs["nodes_featureids"].append(f)
            attrs["nodes_values"].append(v); attrs["nodes_modes"].append(mode)
            attrs["nodes_truenodeids"].append(yes); attrs["nodes_falsenodeids"].append(no)
        for node, weight in [(1, lo), (2, hi)]:
            attrs["target_treeids"].append(t); attrs["target_nodeids"].append(node)
            attrs["target_ids"].append(0); attrs["target_weights"].append(weight)
    node = helper.make_node("TreeEnsembleRegressor", ["input"], ["variable"], domain="ai.onnx.ml", n_targets=1,
                            aggregate_function="SUM", post_transform="NONE", base_values=[10.0], **attrs)
    graph = helper.make_graph([node], "tree_regressor", [f32("input", "N", 2)], [f32("variable", "N", 1)])
    save(graph, "tree_regressor.onnx")


def logreg20():
    # The benchmark's model: one input `features` [N,20] float, sklearn-style label + probabilities.
    w = [round(0.05 * (i % 7) - 0.12, 3) for i in range(20)]
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["zw"]),
        helper.make_node("Add", ["zw", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(nodes, "logreg20", [f32("features", "N", 20)],
                              [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]), f32("probabilities", "N", 2)],
                              [const("w", w, [20, 1]), const("b", [0.1], [1]), const("one", [1.0], [1])])
    save(graph, "logreg20.onnx")


def bad_shape():
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 2], keepdims=0)
    graph = helper.make_graph([node], "bad_shape", [f32("x", "N", 2, 3)], [f32("y", "N")])
    save(graph, "bad_shape.onnx")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    logreg(); tree_classifier(); tree_regressor(); logreg20(); bad_shape()
