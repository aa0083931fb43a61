"""String and text ops: StringNormalizer, RegexFullMatch, StringConcat, StringSplit,
TfIdfVectorizer (https://onnx.ai/onnx/operators/onnx__StringSplit.html and the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule


@register_rule("StringNormalizer", since=10)
def _string_normalizer(ctx: Context) -> None:
    """[C] or [1, C]; removing stopwords makes C depend on the data."""
    xs = ctx.shape(0)
    if len(xs) not in (1, 2):
        ctx.fail(f"input has rank {len(xs)}, 1 or 2 expected")
    if ctx.attr("stopwords"):
        ctx.set_tensor(0, DataType.STRING, [*xs[:-1], ctx.fresh()])
    else:
        ctx.set_tensor(0, DataType.STRING, xs)


@register_rule("RegexFullMatch", since=20)
def _regex_full_match(ctx: Context) -> None:
    ctx.set_tensor(0, DataType.BOOL, ctx.shape(0))


@register_rule("StringConcat", since=20)
def _string_concat(ctx: Context) -> None:
    ctx.set_tensor(0, DataType.STRING, ctx.broadcast(ctx.shape(0), ctx.shape(1)))


@register_rule("StringSplit", since=20)
def _string_split(ctx: Context) -> None:
    """Y: X's shape plus the most substrings of any element (from the data); Z: int64, X's shape."""
    xs = ctx.shape(0)
    ctx.set_tensor(0, DataType.STRING, [*xs, ctx.fresh()])
    ctx.set_tensor(1, DataType.INT64, xs)


@register_rule("TfIdfVectorizer", since=9)
def _tfidf(ctx: Context) -> None:
    """[C] -> [max(ngram_indexes) + 1]; [N, C] -> [N, max(ngram_indexes) + 1]; float."""
    xs = ctx.shape(0)
    idx = ctx.attr("ngram_indexes")
    if not idx:
        ctx.fail("ngram_indexes is required")
    size = max(int(i) for i in idx) + 1
    if len(xs) == 1:
        ctx.set_tensor(0, DataType.FLOAT, [size])
    elif len(xs) == 2:
        ctx.set_tensor(0, DataType.FLOAT, [xs[0], size])
    else:
        ctx.fail(f"input has rank {len(xs)}, 1 or 2 expected")
