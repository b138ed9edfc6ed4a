"""The two repro scripts of a finding.

- ``repro/<id>.py``: the shrunk program through unigrad, on the finding's backend, beside the
  reference engine in float64;
- ``repro/<id>_native.py``: the same program written in the framework's own API alone (its own
  ops, its own differentiation idiom), with the expected numbers written in; it imports NumPy
  and the framework, never unigrad, so it is ready to file upstream.

Every value is written exactly (floats by ``repr``); text from the finding goes into
docstrings only through ``escape.docstring``, so every script compiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unigrad.compare import oracle
from unigrad.compare.escape import docstring
from unigrad.fuzz.execute import directions
from unigrad.fuzz.findings import Finding
from unigrad.fuzz.judge import tolerance
from unigrad.fuzz.native import NativeUnavailable, adapter_source, is_adapter, native_name
from unigrad.fuzz.program import Node, Program, Ref, array_literal, literal

DOC = """{what}: {kind} in {op} on {backend} ({transform}, order {order}, {dtype}).

{detail} (against {against}).
Versions: {versions}.
Found by `unigrad fuzz` (program {first} of its campaign), shrunk from {original} ops to {ops}.
{how}"""


def _doc(f: Finding, what: str, how: str) -> str:
    program = f.shrunk()
    text = DOC.format(
        what=what,
        kind=f.kind,
        op=f.op,
        backend=f.backend,
        transform=f.transform,
        order=f.order,
        dtype=f.dtype,
        detail=f.detail[:600],
        against=f.against,
        versions=", ".join(f"{k} {v}" for k, v in f.versions.items()),
        first=f.first_program,
        original=f.original_ops,
        ops=len(program.nodes),
        how=how,
    )
    return docstring(text)


def _inputs(program: Program) -> str:
    return "[\n" + "".join(f"    {array_literal(i.value)},\n" for i in program.inputs) + "]"


def _dirs(program: Program) -> dict[str, Any]:
    out = np.asarray(program.values()[program.output])
    return directions(program, out.shape)


UNIGRAD = """{doc}

import numpy as np

import unigrad
import unigrad.numpy as unp
from unigrad.compare import oracle
from unigrad.fuzz.judge import fd_compare  # noqa: F401  (the judge's comparison with differences)
from unigrad.fuzz.program import table_op  # noqa: F401  (ops with a custom call)

np.set_printoptions(precision=17)


{source}


BACKEND, DTYPE = {backend!r}, {dtype!r}
INPUTS = {inputs}
W = {W}
U = [{U}]
V = {V}
# what the finding reported ({transform!r}, {kind!r}, against {against!r}):
REPORTED = {{"got": {reported_got!r}, "want": {reported_want!r}, "detail": {detail!r}}}
TOL = {tol!r}  # the fuzzer's tolerance for this comparison


def loss(*xs):
    return unp.sum(program(*xs) * W.astype(xs[0].dtype))


def attempt(fn):
    try:
        return unigrad.to_numpy(fn())
    except Exception as exc:  # a failing transform is a result here
        return f"{{type(exc).__name__}}: {{exc}}"


def leaves(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def run(backend, dtype):
    xs = [x.astype(dtype) for x in INPUTS]
    us = [u.astype(dtype) for u in U]
    n = tuple(range(len(xs)))

    def value():
        with unigrad.use_backend(backend):
            return program(*xs)

    def vjp():
        return unigrad.vjp(program, *xs, backend=backend)[1](V.astype(dtype))

    results = {{"value": attempt(value)}}
    results["grad"] = attempt(lambda: unigrad.grad(loss, n, backend=backend)(*xs))
    results["jvp"] = attempt(lambda: unigrad.jvp(program, xs, us, backend=backend)[1])
    results["vjp"] = attempt(vjp)
    if {second}:
        results["hvp"] = attempt(lambda: unigrad.hvp(loss, xs, us, backend=backend))
    return results


got = run(BACKEND, DTYPE)
ref = run("numpy", "float64")
for name in got:
    print(f"{{name}} on {{BACKEND}} {{DTYPE}}:", got[name])
    print(f"{{name}} by the reference engine (float64):", ref[name])
{check}
"""

#: the finding's own quantity, by what it was compared with (GOT and WANT, named)
_CHECK_REFERENCE = """
GOT, WANT = got[{t!r}], ref[{t!r}]
NAMES = ("{t} on " + BACKEND + " " + DTYPE, "{t} by the reference engine (float64)")
"""
_CHECK_PAIRWISE = """
other = run({other!r}, DTYPE)
GOT, WANT = got[{t!r}], other[{t!r}]
NAMES = ("{t} on " + BACKEND + " " + DTYPE, "{t} on {other} " + DTYPE)
"""
_CHECK_MODES = """

def both_ways(r):  # vᵀ(J u) by reverse mode (vjp along U) and by forward mode (V along jvp)
    fwd = float(np.sum(np.asarray(r["jvp"], np.float64) * V))
    rev = sum(float(np.sum(np.asarray(c, np.float64) * u)) for c, u in zip(leaves(r["vjp"]), U))
    return rev, fwd


failed = isinstance(got["vjp"], str) or isinstance(got["jvp"], str)
with np.errstate(all="ignore"):
    GOT, WANT = (got["vjp"], got["jvp"]) if failed else both_ways(got)
NAMES = ("vᵀ(J u) by reverse mode on " + BACKEND, "vᵀ(J u) by forward mode on " + BACKEND)
"""
_WITHIN = """

def richardson(a, b, h):  # central differences at h and h/2: estimate, error estimate
    eps = float(np.finfo(np.float64).eps)
    est = [(4 * q - p) / 3 for p, q in zip(a, b)]
    err = [np.abs(p - q) + eps * (np.abs(p) + 1.0) / h * 4 for p, q in zip(a, b)]
    return est, err

"""
_CHECK_HVP = (
    _WITHIN
    + """
grad_fn = unigrad.grad(loss, tuple(range(len(INPUTS))), backend=BACKEND)
xs, us = [x.astype(DTYPE) for x in INPUTS], [u.astype(DTYPE) for u in U]


def along(h):  # the central difference of the backend's own gradient along U
    hi = leaves(unigrad.to_numpy(grad_fn(*[x + h * u for x, u in zip(xs, us)])))
    lo = leaves(unigrad.to_numpy(grad_fn(*[x - h * u for x, u in zip(xs, us)])))
    return [(np.asarray(a) - np.asarray(b)) / (2 * h) for a, b in zip(hi, lo)]


with np.errstate(all="ignore"):
    h = {step!r} * max(1e-3, *(float(np.max(np.abs(x), initial=0)) for x in xs))
    est, err = richardson(along(h), along(h / 2), h)
    GOT, WANT, ERR = got["hvp"], tuple(est), tuple(err)
NAMES = ("hvp on " + BACKEND + " " + DTYPE, "differences of its own grad along U")
"""
)
_CHECK_FD = (
    _WITHIN
    + """
xs = [np.asarray(x, np.float64) for x in INPUTS]


def loss64(*a):
    return float(unigrad.to_numpy(unp.sum(program(*a) * W)))


def fd_grad(scale):  # central differences of sum(out * W), one element at a time
    parts = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            e = np.zeros_like(x)
            e[idx] = scale * max(abs(float(x[idx])), 1e-3)
            hi = [x + e if k == i else y for k, y in enumerate(xs)]
            lo = [x - e if k == i else y for k, y in enumerate(xs)]
            g[idx] = (loss64(*hi) - loss64(*lo)) / (2 * e[idx])
        parts.append(g)
    return parts


with np.errstate(all="ignore"):
    est, err = richardson(fd_grad({step!r}), fd_grad({step!r} / 2), {step!r} * 1e-3)
    GOT, WANT, ERR = ref["grad"], tuple(est), tuple(err)
NAMES = ("grad by the reference engine (float64)", "central finite differences")
"""
)
#: what both verdicts print first: the two sides and the finding
_SHOWN = """
print(NAMES[0] + ":", GOT)
print(NAMES[1] + ":", WANT)
print("the finding reported:", REPORTED["detail"])
if isinstance(GOT, str) or isinstance(WANT, str):
    print("not reproduced: the quantity could not be computed")
    raise SystemExit(2)
"""
_VERDICT = (
    _SHOWN
    + """\
verdict = oracle.compare(GOT, WANT, {cmp_dtype!r}, TOL, against={word!r})  # the fuzzer's words
print("reproduced: " + verdict.detail if not verdict.passed else "not reproduced: they agree")
raise SystemExit(0 if verdict.passed else 1)
"""
)
#: the verdict against finite differences: the judge's own comparison (fd_compare: 8 times
#: their error estimate allowed; not judged where the two steps disagree, a kink)
_VERDICT_FD = (
    _SHOWN
    + """\
detail, kink = fd_compare(GOT, WANT, ERR, {cmp_dtype!r}, TOL, {word!r})  # the fuzzer's words
if kink:
    print("not reproduced: the finite differences cross a kink: " + kink)
    raise SystemExit(0)
print("reproduced: " + detail if detail else "not reproduced: they agree")
raise SystemExit(1 if detail else 0)
"""
)
_CHECK_FAILS = """
failed = isinstance(got[{t!r}], str)
print("the finding reported:", REPORTED["detail"])
print("reproduced: {t} fails" if failed else "not reproduced: {t} runs")
raise SystemExit(1 if failed else 0)
"""


def _reported(short: Any) -> str:
    """A finding's got or want (``judge._short``: up to 4 arrays of up to 12 numbers) as text."""
    if not short:
        return "-"
    parts = []
    for leaf in short:
        if leaf is None:
            parts.append("None")
            continue
        vals = ", ".join(str(v) for v in leaf["values"])
        parts.append(vals if leaf["shape"] == [] else f"[{vals}]")
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _check(f: Finding, program: Program) -> tuple[str, dict[str, float]]:
    """The script's last part: the finding's own quantity, compared as the judge compared it
    (exit 1 when it still disagrees), and the tolerance that comparison uses."""
    from unigrad.fuzz import judge
    from unigrad.fuzz.execute import FD_STEP

    t = f.transform
    tol = judge.tolerance(program, f.dtype)
    cmp_dtype = f.dtype
    if f.kind in ("crash", "refusal"):
        return _CHECK_FAILS.format(t=f.transform), tol
    if f.transform == "jvp/vjp":
        body = _CHECK_MODES
    elif f.transform == "grad/hvp":
        body, tol = _CHECK_HVP.format(step=FD_STEP), judge.SECOND_ORDER_TOL
    elif f.against.startswith("finite"):
        body, tol, cmp_dtype = _CHECK_FD.format(step=FD_STEP), judge.FD_TOL, "float64"
    elif f.against.endswith("(pairwise)"):
        other = f.against.split(" ")[0]
        body = _CHECK_PAIRWISE.format(t=t, other=other)
        tol = {k: 2 * v for k, v in tol.items()}
    else:
        body = _CHECK_REFERENCE.format(t=t)
    word = judge.named(f.against)  # as the judge names it in a finding's detail
    verdict = _VERDICT_FD if body.startswith(_WITHIN) else _VERDICT
    return body + verdict.format(cmp_dtype=cmp_dtype, word=word), dict(tol)


def unigrad_script(f: Finding) -> str:
    """The repro through unigrad: every check of the shrunk program beside the reference
    engine's, then the finding's own quantity (same inputs, directions W, U, V and
    comparison as the fuzzer's), exiting 1 when it still disagrees."""
    program = f.shrunk()
    d = _dirs(program)
    how = (
        "Run it with the python of the backend's environment"
        + (" (.venv-mxnet/bin/python: MXNet in-process)." if f.backend == "mxnet" else ".")
        + " Exits 1 when the finding reproduces, 0 when it does not."
    )
    check, tol = _check(f, program)
    return UNIGRAD.format(
        doc=_doc(f, "unigrad fuzz finding", how),
        source=program.source(),
        backend=f.backend if f.backend != "reference" else "numpy",
        dtype=f.dtype,
        inputs=_inputs(program),
        W=array_literal(d["W"]),
        U=", ".join(array_literal(u) for u in d["u"]),
        V=array_literal(d["v"]),
        second=f.order >= 2,
        transform=f.transform,
        kind=f.kind,
        against=f.against,
        reported_got=_reported(f.got),
        reported_want=_reported(f.want),
        detail=f.detail,
        tol=tol,
        check=check,
    )


# ------------------------------------------------------------------------------ native
_SETUP = {
    "torch": """import torch

DTYPE = torch.{dtype}


def C(x):
    x = np.asarray(x)
    return torch.as_tensor(x, dtype=DTYPE if x.dtype.kind == 'f' else None)
""",
    "jax": """import jax

jax.config.update('jax_enable_x64', True)
import jax.numpy as jnp  # noqa: E402

DTYPE = jnp.{dtype}


def C(x):
    x = np.asarray(x)
    return jnp.asarray(x, dtype=DTYPE if x.dtype.kind == 'f' else None)
""",
    "tensorflow": """import tensorflow as tf

DTYPE = tf.{dtype}


def C(x):
    x = np.asarray(x)
    return tf.constant(x, dtype=DTYPE if x.dtype.kind == 'f' else None)
""",
    "mxnet": """import mxnet
from mxnet import autograd

DTYPE = np.{dtype}


def C(x):
    x = np.asarray(x)
    return mxnet.np.array(x, dtype=DTYPE if x.dtype.kind == 'f' else x.dtype)
""",
}
_IMPORTS = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow", "mxnet": "mxnet"}

_DERIVE = {
    "torch": """
xs = [C(x).requires_grad_() for x in INPUTS]
us, v, w = [C(u) for u in U], C(V), C(W)
n = tuple(range(len(xs)))


def loss(*a):
    return (program(*a) * w).sum()


results = {"value": program(*xs).detach()}
results["grad"] = torch.autograd.grad(loss(*xs), xs, allow_unused=True)
results["jvp"] = torch.func.jvp(program, tuple(xs), tuple(us))[1]
results["vjp"] = torch.func.vjp(program, *xs)[1](v)
results["hvp"] = torch.func.jvp(torch.func.grad(loss, argnums=n), tuple(xs), tuple(us))[1]
""",
    "jax": """
xs, us, v, w = [C(x) for x in INPUTS], [C(u) for u in U], C(V), C(W)
n = tuple(range(len(xs)))


def loss(*a):
    return jnp.sum(program(*a) * w)


results = {"value": program(*xs)}
results["grad"] = jax.grad(loss, argnums=n)(*xs)
results["jvp"] = jax.jvp(program, tuple(xs), tuple(us))[1]
results["vjp"] = jax.vjp(program, *xs)[1](v)
results["hvp"] = jax.jvp(jax.grad(loss, argnums=n), tuple(xs), tuple(us))[1]
""",
    "tensorflow": """
xs, us, v, w = [C(x) for x in INPUTS], [C(u) for u in U], C(V), C(W)
results = {"value": program(*xs)}
with tf.GradientTape() as tape:
    tape.watch(xs)
    total = tf.reduce_sum(program(*xs) * w)
results["grad"] = tape.gradient(total, xs)
with tf.autodiff.ForwardAccumulator(xs, us) as acc:
    out = program(*xs)
results["jvp"] = acc.jvp(out)
with tf.GradientTape() as tape:
    tape.watch(xs)
    out = program(*xs)
results["vjp"] = tape.gradient(out, xs, output_gradients=v)
with tf.autodiff.ForwardAccumulator(xs, us) as acc:
    with tf.GradientTape() as tape:
        tape.watch(xs)
        total = tf.reduce_sum(program(*xs) * w)
    g = tape.gradient(total, xs)
results["hvp"] = [acc.jvp(gi) for gi in g]
""",
    "mxnet": """
xs, us, v, w = [C(x) for x in INPUTS], [C(u) for u in U], C(V), C(W)
for x in xs:
    x.attach_grad()
results = {"value": program(*xs)}
with autograd.record():
    total = (program(*xs) * w).sum()
total.backward()
results["grad"] = [x.grad.copy() for x in xs]
with autograd.record():
    out = program(*xs)
out.backward(v)
results["vjp"] = [x.grad.copy() for x in xs]
# MXNet has no forward mode: J u from one vjp per output element
rows = []
for k in range(int(np.prod(out.shape))):
    e = np.zeros(out.shape, dtype=DTYPE).reshape(-1)
    e[k] = 1
    with autograd.record():
        o = program(*xs)
    o.backward(C(e.reshape(out.shape)))
    rows.append(sum(float((x.grad * u).sum()) for x, u in zip(xs, us)))
results["jvp"] = np.asarray(rows).reshape(out.shape)
try:
    with autograd.record():
        total = (program(*xs) * w).sum()
        g = autograd.grad(total, xs, create_graph=True, retain_graph=True)
        s = sum((gi * u).sum() for gi, u in zip(g, us))
    s.backward()
    results["hvp"] = [x.grad.copy() for x in xs]
except Exception as exc:  # MXNet 1.9 lacks most second-order rules
    results["hvp"] = f"MXNet raised {type(exc).__name__}: {exc}"
""",
}

#: a native divergence: d sum(out * W) / d inputs alone (W is ones), in the framework's idiom
_DERIVE_GRAD = {
    "torch": """
xs, w = [C(x).requires_grad_() for x in INPUTS], C(W)
results = {"grad": torch.autograd.grad((program(*xs) * w).sum(), xs, allow_unused=True)}
""",
    "jax": """
xs, w = [C(x) for x in INPUTS], C(W)
n = tuple(range(len(xs)))
results = {"grad": jax.grad(lambda *a: jnp.sum(program(*a) * w), argnums=n)(*xs)}
""",
    "tensorflow": """
xs, w = [C(x) for x in INPUTS], C(W)
with tf.GradientTape() as tape:
    tape.watch(xs)
    total = tf.reduce_sum(program(*xs) * w)
results = {"grad": tape.gradient(total, xs)}
""",
    "mxnet": """
xs, w = [C(x) for x in INPUTS], C(W)
for x in xs:
    x.attach_grad()
with autograd.record():
    total = (program(*xs) * w).sum()
total.backward()
results = {"grad": [x.grad.copy() for x in xs]}
""",
}

NATIVE = """{doc}

import numpy as np

{setup}
np.set_printoptions(precision=17)


{source}


INPUTS = {inputs}
W = {W}
U = [{U}]
V = {V}
{derive}
# unigrad's reference engine (float64) gives, for the same program and directions:
EXPECTED = {expected}
RTOL, ATOL = {rtol!r}, {atol!r}


def as_list(r, like):
    if isinstance(r, (list, tuple)):
        return [as_list(e, w)[0] for e, w in zip(r, like)]
    if r is None:  # no gradient at all, where unigrad's meaning has numbers
        return [None]
    for method in ("detach", "asnumpy", "numpy"):
        if hasattr(r, method) and not isinstance(r, np.ndarray):
            r = getattr(r, method)()
    return [np.asarray(r, dtype=np.float64)]


differs = []
for name, want in EXPECTED.items():
    got = results[name]
    print(f"{{name}} on {backend}:", got)
    print(f"{{name}} expected:", want)
    if isinstance(got, str):
        differs.append(name)
        continue
    wants = want if isinstance(want, list) else [want]
    gots = as_list(got, wants if isinstance(want, list) else want)
    same = len(gots) == len(wants) and all(
        g is not None
        and np.shape(g) == np.shape(w)
        and np.allclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
        for g, w in zip(gots, wants)
    )
    if not same:
        differs.append(name)
print("reproduced: " + ", ".join(differs) + " differ" if differs else "all agree")
{finding_check}"""

#: the native script's verdict: the finding's own quantity where the script computes it
_NATIVE_VERDICT = {
    "reference": """reproduced = {t!r} in differs
raise SystemExit(1 if reproduced else 0)
""",
    "modes": """

def flat(r):
    return [np.asarray(a, np.float64) for a in as_list(r, r)]


# the finding: vᵀ(J u) by reverse mode (vjp along U) against forward mode (V along jvp)
with np.errstate(all="ignore"):
    fwd = float(np.sum(flat(results["jvp"])[0] * V))
    rev = sum(float(np.sum(c * u)) for c, u in zip(flat(results["vjp"]), U))
print("vᵀ(J u) by reverse mode:", rev, " by forward mode:", fwd)
print("the finding reported:", {detail!r})
scale = max(1.0, abs(fwd)) if np.isfinite(fwd) else 1.0
same = bool(np.isclose(rev, fwd, rtol=RTOL, atol=ATOL * scale, equal_nan=True))
print("not reproduced: they agree" if same else "reproduced: reverse and forward mode differ")
raise SystemExit(0 if same else 1)
""",
    "any": """raise SystemExit(1 if differs else 0)
""",
}


def native_source(program: Program, backend: str, name: str = "program") -> str:
    """The program in ``backend``'s own API (constants through ``C``)."""
    params = ", ".join(f"v{i}" for i in range(len(program.inputs)))
    adapters = sorted(
        {p for p in (native_name(backend, n.op) for n in program.nodes) if is_adapter(p)}
    )
    head = ["import numbers", "from typing import Any", "", ""]
    lines = [*head, adapter_source(adapters), "", ""] if adapters else []
    lines.append(f"def {name}({params}):")
    for k, node in enumerate(program.nodes):
        lines.append(f"    v{len(program.inputs) + k} = {_native_call(node, backend)}")
    lines.append(f"    return v{program.output}")
    return "\n".join(lines)


def _native_call(node: Node, backend: str) -> str:
    path = native_name(backend, node.op)
    head = path.replace("tensorflow.", "tf.").replace("mxnet.numpy.", "mxnet.np.")
    head = head.replace("jax.numpy.", "jnp.")
    if is_adapter(path):  # its source is in the script (native_source)
        head = path.rpartition(".")[2]
    args = [_native_arg(a, backend) for a in node.args]
    rename = {"axis": "dim", "keepdims": "keepdim"}
    rename = rename if backend == "torch" and not is_adapter(path) else {}
    args += [f"{rename.get(k, k)}={_native_arg(v, backend)}" for k, v in node.kwargs.items()]
    pick = "" if node.pick is None else f"[{node.pick}]"
    return f"{head}({', '.join(args)}){pick}"


def _native_arg(a: Any, backend: str) -> str:
    if isinstance(a, Ref):
        return f"v{a.index}"
    if isinstance(a, np.ndarray) or (backend == "torch" and isinstance(a, float)):
        return f"C({literal(np.asarray(a))})"
    return literal(a)


def expected_values(program: Program, order: int) -> dict[str, Any]:
    """What the reference engine gives for the repro's quantities, in float64."""
    from unigrad.fuzz.execute import run_program

    checks = ("value", "grad", "jvp", "vjp", *(("hvp",) if order >= 2 else ()))
    got = run_program(program, "numpy", "float64", checks)
    return {k: r["value"] for k, r in got.items() if k in checks and r["ok"]}


def _py(v: Any) -> str:
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_py(e) for e in v) + "]"
    return array_literal(np.asarray(v, np.float64))


def native_script(f: Finding) -> str | None:
    """The repro in the framework's own API, or None (the reference engine has no framework;
    an op the framework lacks)."""
    if f.backend not in _SETUP:
        return None
    program = f.shrunk()
    try:
        source = native_source(program, f.backend)
    except (NativeUnavailable, KeyError, ImportError):
        return None
    d = _dirs(program)
    with np.errstate(all="ignore"):
        if f.transform == "native grad":  # d sum(out) / d inputs, unigrad's pinned meaning
            from unigrad.fuzz.execute import run_native

            d["W"] = np.ones_like(d["W"])
            pinned = run_native(program, "numpy")["native grad"]
            expected = {"grad": pinned["value"]} if pinned["ok"] else {}
        else:
            expected = expected_values(program, f.order)
    how = (
        f"Needs only numpy and {_IMPORTS[f.backend]}: no unigrad. Directions W (loss weights), "
        f"U (tangents) and V (cotangent) are fixed; grad is d sum(out * W) / d inputs."
    )
    dtype = f.dtype if f.transform != "native grad" else "float64"
    tol = (
        dict(oracle.TOLERANCE[dtype])
        if f.transform == "native grad"
        else tolerance(program, dtype)  # with the program's ops' own overrides, as judged
    )
    return NATIVE.format(
        doc=_doc(f, "Framework repro", how),
        setup=_SETUP[f.backend].format(dtype=dtype),
        source=source,
        inputs=_inputs(program),
        W=array_literal(d["W"]),
        U=", ".join(array_literal(u) for u in d["u"]),
        V=array_literal(d["v"]),
        derive=(_DERIVE_GRAD if f.transform == "native grad" else _DERIVE)[f.backend],
        expected="{\n" + "".join(f"    {k!r}: {_py(v)},\n" for k, v in expected.items()) + "}",
        backend=f.backend,
        rtol=tol["rtol"],  # the judge's: what it reported, the script shows
        atol=tol["atol"],
        finding_check=_native_verdict(f),
    )


def _native_verdict(f: Finding) -> str:
    """The native script's exit: the finding's own quantity where it computes it (a check
    against the reference, reverse against forward mode), else any difference from the
    reference (pairwise, second-order and native findings)."""
    if f.transform == "jvp/vjp":
        return _NATIVE_VERDICT["modes"].format(detail=f.detail)
    if f.against == "the reference" and f.kind not in ("crash", "refusal"):
        return _NATIVE_VERDICT["reference"].format(t=f.transform)
    return _NATIVE_VERDICT["any"]
