"""Section "mltools" of tools/make_fixtures.py: the gradient-boosting world, as deployed models
come out of it.

- LightGBM (binary and multiclass classifiers, a regressor) and XGBoost (classifier, regressor)
  converted by onnxmltools (TreeEnsembleClassifier / TreeEnsembleRegressor, ZipMap, the
  post-transforms written out as Sigmoid / Softmax / Concat...);
- CatBoost models saved by CatBoost's own exporter (``save_model(format="onnx")``);
- an sklearn Pipeline with a LightGBM step through skl2onnx, with onnxmltools' LightGBM converter
  registered into it.

Every model is tiny (a few shallow trees on sklearn's toy data sets), seeded, with a symbolic
batch dim. lightgbm, xgboost, catboost and onnxmltools are generation-only dependencies.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from make_fixtures import Fixture, SectionResult, _quiet, _require, _save, _version_of

OPSET = 15  # onnxmltools takes one number (15 at most) and picks the ai.onnx.ml opset itself
ML_OPSET = 3  # ai.onnx.ml, for skl2onnx


def _count_ops(model: onnx.ModelProto) -> str:
    counts: dict[str, int] = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(counts.items()))


def _op_tags(model: onnx.ModelProto) -> list[str]:
    tags = set()
    for n in model.graph.node:
        if n.domain == "ai.onnx.ml":
            tags.add("domain:ai.onnx.ml")
            if n.op_type.startswith("TreeEnsemble"):
                tags.add("op:tree_ensemble")
            elif n.op_type == "ZipMap":
                tags.update(("op:zipmap", "type:sequence", "type:map"))
            else:
                tags.add(f"op:{n.op_type.lower()}")
    return sorted(tags)


def build(root: Path) -> SectionResult:
    """Write the section's models under ``root / "mltools"``."""
    with tempfile.TemporaryDirectory(prefix="mltools_") as tmp:
        return _build(root, Path(tmp))


def _build(root: Path, tmp: Path) -> SectionResult:
    onnxmltools = _require("onnxmltools")
    lightgbm = _require("lightgbm")
    xgboost = _require("xgboost")
    catboost = _require("catboost")
    skl2onnx = _require("skl2onnx")
    sklearn = _require("sklearn")
    from onnxmltools.convert.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

    d = root / "mltools"
    d.mkdir(parents=True, exist_ok=True)
    out: list[Fixture] = []

    iris_x, iris_y = load_iris(return_X_y=True)
    cancer_x, cancer_y = load_breast_cancer(return_X_y=True)
    diab_x, diab_y = load_diabetes(return_X_y=True)
    iris_x, cancer_x, diab_x = (a.astype(np.float32) for a in (iris_x, cancer_x, diab_x))
    cancer_x = cancer_x[:, :8]  # fewer features: smaller trees, smaller files
    diab_x = diab_x[:, :6]

    def add(name: str, model: onnx.ModelProto, producer: str, description: str, tags: list[str]) -> None:
        # the same file every run: onnxmltools names the graph with a random uuid, CatBoost records
        # when it trained and a random model guid
        if re.fullmatch(r"[0-9a-f]{32}", model.graph.name):
            model.graph.name = name
        for prop in model.metadata_props:
            if prop.key == "train_finish_time":
                prop.value = "2000-01-01T00:00:00Z"
            elif prop.key == "model_guid":
                prop.value = "00000000-00000000-00000000-00000000"
        rel = f"mltools/{name}.onnx"
        _save(model, root / rel)
        size = (root / rel).stat().st_size
        assert size < 100_000, (rel, size)
        out.append(Fixture(rel, f"{description} Ops: {_count_ops(model)}.", producer,
                           sorted({"real_model", "dims:symbolic", *tags, *_op_tags(model)})))

    def types(n: int) -> list[tuple[str, Any]]:
        return [("input", FloatTensorType([None, n]))]

    opset = {"": 17, "ai.onnx.ml": ML_OPSET}
    mlt = f"onnxmltools {onnxmltools.__version__}"

    # --- LightGBM ------------------------------------------------------------------------------
    lgb_v = lightgbm.__version__
    lgb_kw = {"n_estimators": 5, "max_depth": 3, "num_leaves": 7, "random_state": 0, "verbose": -1}
    with _quiet():
        lgb_bin = lightgbm.LGBMClassifier(**lgb_kw).fit(cancer_x, cancer_y)
        m = onnxmltools.convert_lightgbm(lgb_bin, initial_types=types(8), target_opset=OPSET,
                                         zipmap=True)
    add("lightgbm_binary", m, f"{mlt} (lightgbm {lgb_v})",
        "LGBMClassifier, binary, 5 trees of depth <= 3 on 8 breast_cancer features: TreeEnsembleClassifier "
        "(raw scores), the sigmoid written out, int64 label, ZipMap to seq(map(int64, float)).",
        ["exporter:onnxmltools", "lib:lightgbm"])
    with _quiet():
        lgb_multi = lightgbm.LGBMClassifier(**lgb_kw).fit(iris_x, iris_y)
        m = onnxmltools.convert_lightgbm(lgb_multi, initial_types=types(4), target_opset=OPSET,
                                         zipmap=False)
    add("lightgbm_multiclass", m, f"{mlt} (lightgbm {lgb_v})",
        "LGBMClassifier, 3 iris classes x 5 rounds, depth <= 3: TreeEnsembleClassifier, softmax, "
        "int64 label and a [N, 3] probability tensor (zipmap=False).",
        ["exporter:onnxmltools", "lib:lightgbm"])
    with _quiet():
        lgb_reg = lightgbm.LGBMRegressor(**lgb_kw).fit(diab_x, diab_y)
        m = onnxmltools.convert_lightgbm(lgb_reg, initial_types=types(6), target_opset=OPSET)
    add("lightgbm_regressor", m, f"{mlt} (lightgbm {lgb_v})",
        "LGBMRegressor, 5 trees of depth <= 3 on 6 diabetes features: TreeEnsembleRegressor, [N, 1].",
        ["exporter:onnxmltools", "lib:lightgbm"])

    with _quiet():
        lgb_pois = lightgbm.LGBMRegressor(objective="poisson", **lgb_kw).fit(diab_x, diab_y)
        m = onnxmltools.convert_lightgbm(lgb_pois, initial_types=types(6), target_opset=OPSET, split=2)
    add("lightgbm_poisson_split", m, f"{mlt} (lightgbm {lgb_v})",
        "LGBMRegressor with the poisson objective, converted with split=2 (the trees in several "
        "TreeEnsembleRegressor nodes summed in double precision, then Exp).",
        ["exporter:onnxmltools", "lib:lightgbm"])

    # --- XGBoost -------------------------------------------------------------------------------
    xgb_v = xgboost.__version__
    xgb_kw = {"n_estimators": 4, "max_depth": 3, "random_state": 0, "n_jobs": 1}
    with _quiet():
        xgb_multi = xgboost.XGBClassifier(**xgb_kw).fit(iris_x, iris_y)
        m = onnxmltools.convert_xgboost(xgb_multi, initial_types=types(4), target_opset=OPSET)
    add("xgboost_multiclass", m, f"{mlt} (xgboost {xgb_v})",
        "XGBClassifier, 3 iris classes x 4 rounds, depth <= 3: TreeEnsembleClassifier with SOFTMAX "
        "post-transform, ZipMap.", ["exporter:onnxmltools", "lib:xgboost"])
    with _quiet():
        xgb_bin = xgboost.XGBClassifier(**xgb_kw).fit(cancer_x, cancer_y)
        m = onnxmltools.convert_xgboost(xgb_bin, initial_types=types(8), target_opset=OPSET)
    add("xgboost_binary", m, f"{mlt} (xgboost {xgb_v})",
        "XGBClassifier, binary (logistic), 4 trees of depth <= 3 on 8 breast_cancer features.",
        ["exporter:onnxmltools", "lib:xgboost"])
    with _quiet():
        xgb_reg = xgboost.XGBRegressor(**xgb_kw).fit(diab_x, diab_y)
        m = onnxmltools.convert_xgboost(xgb_reg, initial_types=types(6), target_opset=OPSET)
    add("xgboost_regressor", m, f"{mlt} (xgboost {xgb_v})",
        "XGBRegressor, 4 trees of depth <= 3 on 6 diabetes features: TreeEnsembleRegressor.",
        ["exporter:onnxmltools", "lib:xgboost"])

    with _quiet():
        xgb_rf = xgboost.XGBRFClassifier(n_estimators=3, max_depth=2, random_state=0, n_jobs=1)
        xgb_rf.fit(iris_x, iris_y)
        m = onnxmltools.convert_xgboost(xgb_rf, initial_types=types(4), target_opset=13)
    add("xgboost_rf_multiclass_opset13", m, f"{mlt} (xgboost {xgb_v})",
        "XGBRFClassifier (random forest mode: 3 parallel trees per class, depth <= 2) on iris, "
        "converted at opset 13.", ["exporter:onnxmltools", "lib:xgboost"])

    # --- CatBoost, its own exporter -------------------------------------------------------------
    cb_v = catboost.__version__
    cb_kw = {"iterations": 5, "depth": 3, "random_seed": 0, "verbose": False, "thread_count": 1,
             "allow_writing_files": False}
    for name, est, (x, y), what in (
        ("catboost_binary", catboost.CatBoostClassifier(**cb_kw), (cancer_x, cancer_y),
         "CatBoostClassifier, binary, 5 oblivious trees of depth 3 on 8 breast_cancer features"),
        ("catboost_multiclass", catboost.CatBoostClassifier(loss_function="MultiClass", **cb_kw),
         (iris_x, iris_y), "CatBoostClassifier, MultiClass on the 3 iris classes, 5 rounds of depth 3"),
        ("catboost_regressor", catboost.CatBoostRegressor(**cb_kw), (diab_x, diab_y),
         "CatBoostRegressor, 5 oblivious trees of depth 3 on 6 diabetes features"),
    ):
        with _quiet():
            est.fit(x, y)
            p = tmp / f"{name}.onnx"
            est.save_model(str(p), format="onnx", export_parameters={"onnx_domain": "ai.catboost",
                                                                     "onnx_model_version": 1})
        add(name, onnx.load(str(p)), f"catboost {cb_v}",
            f"{what}, saved by CatBoost's own ONNX exporter (save_model(format='onnx')): "
            "TreeEnsemble* in ai.onnx.ml, ZipMap for classifiers.", ["exporter:catboost", "lib:catboost"])

    # --- sklearn Pipeline with a LightGBM step (skl2onnx + onnxmltools' converter) ---------------
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import convert_sklearn, update_registered_converter
    from skl2onnx.common.data_types import FloatTensorType as SklFloat
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    update_registered_converter(
        lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", calculate_linear_classifier_output_shapes,
        convert_lightgbm, options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
    with _quiet():
        pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=3, random_state=0)),
                         ("lgbm", lightgbm.LGBMClassifier(**lgb_kw))]).fit(iris_x, iris_y)
        m = convert_sklearn(pipe, "pipeline_lightgbm", [("input", SklFloat([None, 4]))], target_opset=opset)
    add("sklearn_pipeline_lightgbm", m,
        f"skl2onnx {skl2onnx.__version__} + {mlt} (scikit-learn {sklearn.__version__}, lightgbm {lgb_v})",
        "sklearn Pipeline StandardScaler -> PCA(3) -> LGBMClassifier (3 iris classes) through "
        "skl2onnx with onnxmltools' LightGBM converter registered: Scaler, MatMul, "
        "TreeEnsembleClassifier, ZipMap.", ["exporter:skl2onnx", "exporter:onnxmltools", "lib:lightgbm"])

    return SectionResult(out, {"onnxmltools": onnxmltools.__version__, "lightgbm": lgb_v, "xgboost": xgb_v,
                               "catboost": cb_v, "skl2onnx": skl2onnx.__version__,
                               "scikit-learn": sklearn.__version__,
                               "onnxruntime": _version_of("onnxruntime")})
