"""The ai.onnx.ml operators (https://onnx.ai/onnx/operators/ "ai.onnx.ml" pages): classifiers,
regressors, encoders and the map/sequence converters that scikit-learn exports carry.

Batch conventions, from the specs: models that take ``[N, F]`` treat a 1-D input ``[F]`` as one
example (``N = 1``); classifiers return labels ``[N]`` and scores ``[N, E]`` with E the number
of class labels."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim
from onnxlite.infer._types import MapType, SequenceType, TensorType

ML = "ai.onnx.ml"


def _batch(ctx: Context, i: int = 0) -> Dim | None:
    """N of an ``[N, F]`` input (1 for a 1-D input), None for an unknown rank; other ranks
    break the spec."""
    shape = ctx.tensor(i).shape
    if shape is None:
        return None
    if len(shape) == 1:
        return 1
    if len(shape) == 2:
        return shape[0]
    ctx.fail(f"input {i} has rank {len(shape)}, [N, F] or [F] expected")


def _count(ctx: Context, *names: str) -> int | None:
    """The length of the first of ``names`` given as a (non-empty) list or tensor attribute."""
    for name in names:
        value = ctx.attr(name)
        if value is None:
            continue
        n = _length(value)
        if n:
            return n
    return None


def _length(value: Any) -> int:
    shape = getattr(value, "shape", None)
    if shape is not None:
        n = 1
        for d in shape:
            n *= int(d)
        return n
    return len(value)


def _labels_dtype(ctx: Context, strings: str, ints: str) -> DataType | None:
    if _count(ctx, strings):
        return DataType.STRING
    if _count(ctx, ints):
        return DataType.INT64
    return None


# --- element-wise transforms -----------------------------------------------------------------


@register_rule(["Binarizer", "Imputer"], domain=ML)
def _same_type(ctx: Context) -> None:
    """Y: X's type and shape."""
    ctx.set_output(0, ctx.tensor(0))


@register_rule(["Scaler", "Normalizer"], domain=ML)
def _float_same_shape(ctx: Context) -> None:
    """Y: float, X's shape."""
    ctx.set_tensor(0, DataType.FLOAT, ctx.tensor(0).shape)


@register_rule("OneHotEncoder", domain=ML)
def _one_hot_encoder(ctx: Context) -> None:
    """Y: float, X's shape with one more dim: the number of categories."""
    x = ctx.tensor(0)
    cats = _count(ctx, "cats_int64s", "cats_strings")
    if cats is None:
        ctx.fail("neither cats_int64s nor cats_strings is given")
    ctx.set_tensor(0, DataType.FLOAT, None if x.shape is None else [*x.shape, cats])


@register_rule("ArrayFeatureExtractor", domain=ML)
def _array_feature_extractor(ctx: Context) -> None:
    """Z: X's dims but the last, then the number of indices (a 1-D X counts as [1, C])."""
    x = ctx.tensor(0)
    y = ctx.tensor(1)
    if x.shape is None or y.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    lead = list(x.shape[:-1]) if len(x.shape) >= 2 else [1]
    ctx.set_tensor(0, x.dtype, [*lead, ctx.numel(y.shape)])


@register_rule("FeatureVectorizer", domain=ML)
def _feature_vectorizer(ctx: Context) -> None:
    """Y: float [N, sum(inputdimensions)], N the first input's first dim (1 for 1-D inputs)."""
    dims = ctx.attr("inputdimensions")
    if not dims:
        ctx.set_tensor(0, DataType.FLOAT, [ctx.fresh(), ctx.fresh()])
        return
    if len(dims) != ctx.num_inputs:
        ctx.fail(f"inputdimensions has {len(dims)} values for {ctx.num_inputs} inputs")
    shape = ctx.shape(0)
    n: Dim = 1 if len(shape) == 1 else shape[0]
    ctx.set_tensor(0, DataType.FLOAT, [n, sum(int(d) for d in dims)])


# --- encoders ----------------------------------------------------------------------------------


@register_rule("CategoryMapper", domain=ML)
def _category_mapper(ctx: Context) -> None:
    """Strings become int64 and int64 become strings; the shape stays."""
    x = ctx.tensor(0)
    if x.dtype is None:
        ctx.set_tensor(0, None, x.shape)
        return
    if x.dtype not in (DataType.STRING, DataType.INT64):
        ctx.fail(f"input is {x.dtype.short_name}, string or int64 expected")
    out = DataType.INT64 if x.dtype == DataType.STRING else DataType.STRING
    ctx.set_tensor(0, out, x.shape)


@register_rule("LabelEncoder", domain=ML)
def _label_encoder_1(ctx: Context) -> None:
    """Version 1: strings to int64 and int64 to strings; the shape stays."""
    _category_mapper(ctx)


_VALUES = (("values_strings", DataType.STRING), ("values_int64s", DataType.INT64),
           ("values_floats", DataType.FLOAT))


@register_rule("LabelEncoder", domain=ML, since=2)
def _label_encoder_2(ctx: Context) -> None:
    """Version 2+: Y has X's shape and the element type of the values_* attribute given
    (values_tensor's own type from version 4)."""
    x = ctx.tensor(0)
    out: DataType | None = None
    if ctx.opset >= 4:
        vt = ctx.attr("values_tensor")
        if vt is not None:
            out = DataType(int(vt.dtype))
    if out is None:
        given = [dt for name, dt in _VALUES if _count(ctx, name)]
        if len(given) != 1:
            ctx.fail("exactly one values_* attribute must be given")
        out = given[0]
    ctx.set_tensor(0, out, x.shape)


@register_rule("DictVectorizer", domain=ML)
def _dict_vectorizer(ctx: Context) -> None:
    """Y: [1, len(vocabulary)] of the map's value type."""
    m = ctx.input_type(0)
    vocab = _count(ctx, "int64_vocabulary", "string_vocabulary")
    if vocab is None:
        ctx.fail("neither int64_vocabulary nor string_vocabulary is given")
    dtype = None
    if isinstance(m, MapType) and isinstance(m.value, TensorType):
        dtype = m.value.dtype
    elif m is not None:
        ctx.fail(f"input is {m}, a map expected")
    ctx.set_tensor(0, dtype, [1, vocab])


_CAST_TO = {"TO_FLOAT": DataType.FLOAT, "TO_STRING": DataType.STRING, "TO_INT64": DataType.INT64}


@register_rule("CastMap", domain=ML)
def _cast_map(ctx: Context) -> None:
    """Y: [1, number of map entries] (DENSE) or [1, max_map] (SPARSE), of type cast_to."""
    cast_to = ctx.attr("cast_to", "TO_FLOAT")
    dtype = _CAST_TO.get(cast_to)
    if dtype is None:
        ctx.fail(f"cast_to {cast_to!r} is not TO_FLOAT, TO_STRING or TO_INT64")
    form = ctx.attr("map_form", "DENSE")
    if form == "SPARSE":
        ctx.set_tensor(0, dtype, [1, int(ctx.attr("max_map", 1))])
    elif form == "DENSE":
        ctx.set_tensor(0, dtype, [1, ctx.fresh()])  # as many as the map holds: data-dependent
    else:
        ctx.fail(f"map_form {form!r} is not DENSE or SPARSE")


@register_rule("ZipMap", domain=ML)
def _zip_map(ctx: Context) -> None:
    """Z: a sequence of maps from the class labels (int64 or string) to float."""
    key = _labels_dtype(ctx, "classlabels_strings", "classlabels_int64s")
    if key is None:
        ctx.fail("neither classlabels_strings nor classlabels_int64s is given")
    ctx.set_output(0, SequenceType(MapType(key, TensorType(DataType.FLOAT, ()))))


# --- regressors and classifiers --------------------------------------------------------------


@register_rule("LinearRegressor", domain=ML)
def _linear_regressor(ctx: Context) -> None:
    """Y: float [N, targets]."""
    n = _batch(ctx)
    ctx.set_tensor(0, DataType.FLOAT, None if n is None else [n, int(ctx.attr("targets", 1))])


@register_rule("SVMRegressor", domain=ML)
def _svm_regressor(ctx: Context) -> None:
    """Y: float [N, 1] (one score per example)."""
    n = _batch(ctx)
    ctx.set_tensor(0, DataType.FLOAT, None if n is None else [n, 1])


@register_rule("TreeEnsembleRegressor", domain=ML)
def _tree_regressor(ctx: Context) -> None:
    """Y: float [N, n_targets]."""
    ctx.set_tensor(0, DataType.FLOAT, _targets(ctx))


@register_rule("TreeEnsemble", domain=ML, since=5)
def _tree_ensemble(ctx: Context) -> None:
    """Y: X's element type, [N, n_targets]."""
    ctx.set_tensor(0, ctx.tensor(0).dtype, _targets(ctx))


def _targets(ctx: Context) -> list[Dim] | None:
    n = _batch(ctx)
    if n is None:
        return None
    targets = ctx.attr("n_targets")
    return [n, int(targets) if targets is not None else ctx.fresh()]


def _classifier(ctx: Context, ints: str, n_classes: int | None) -> None:
    """Y: labels [N] (string or int64), Z: float scores [N, E]."""
    n = _batch(ctx)
    dtype = _labels_dtype(ctx, "classlabels_strings", ints)
    if dtype is None:
        ctx.fail(f"neither classlabels_strings nor {ints} is given")
    if n is None:
        ctx.set_tensor(0, dtype, None)
        ctx.set_tensor(1, DataType.FLOAT, None)
        return
    ctx.set_tensor(0, dtype, [n])
    ctx.set_tensor(1, DataType.FLOAT, [n, n_classes if n_classes is not None else ctx.fresh()])


def _n_labels(ctx: Context, ints: str) -> int | None:
    """E: one score per class label; a single label gives no number the runtimes agree on."""
    n = _count(ctx, "classlabels_strings", ints)
    return n if n is not None and n >= 2 else None


@register_rule("LinearClassifier", domain=ML)
def _linear_classifier(ctx: Context) -> None:
    _classifier(ctx, "classlabels_ints", _n_labels(ctx, "classlabels_ints"))


@register_rule("TreeEnsembleClassifier", domain=ML)
def _tree_classifier(ctx: Context) -> None:
    _classifier(ctx, "classlabels_int64s", _n_labels(ctx, "classlabels_int64s"))


@register_rule("SVMClassifier", domain=ML)
def _svm_classifier(ctx: Context) -> None:
    """E is the number of labels, except a two-class linear SVM (no support vectors), whose
    score count depends on how many coefficient rows it has."""
    e = _n_labels(ctx, "classlabels_ints")
    if e == 2 and not _count(ctx, "support_vectors"):
        e = None
    _classifier(ctx, "classlabels_ints", e)
