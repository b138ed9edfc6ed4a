"""The backend protocol: every hook an adapter may implement, declared here with its meaning.

An adapter (``backends/<name>/backend.py``) supplies

- **conversion**: ``asarray``, ``to_numpy``, ``is_array``, ``dtype_name``, ``native_dtype``,
  ``stop_gradient`` (and, where cheaper, ``prepare`` / ``prepare_constant``);
- **ops**: ``namespace``, the framework's NumPy-like module (``jax.numpy``), searched by NumPy
  name; ``departures``, a module holding only the ops whose name, signature or meaning differs
  from NumPy's there; ``native_pins``, the kink conventions its own ops already follow (measured),
  so that the generic versions in ``conventions.py`` are not used for those;
- **differentiation**: ``vjp`` (and ``jvp`` where the framework has forward mode);
- optionally, **compilation**: ``compile`` / ``compile_refusal`` / ``compile_after``.

``value_and_grad``, ``jacobian``, ``hessian`` and ``hvp`` have generic versions here, built from
``vjp`` and ``jvp``; an adapter overrides one where its framework has a faster native path.

Every transform hook takes a flat function ``fun(*primals) -> (outputs, aux)`` (``outputs`` a
list of arrays) and the primals; it never sees how the user's arguments were structured. The
facade (``unigrad.api``) flattens pytrees, checks dtypes, caches compiled transforms and
rebuilds results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from unigrad.backends.optable import OpTable

from unigrad import capabilities as C
from unigrad.errors import UnsupportedError

Fun = Callable[..., tuple[list[Any], Any]]

#: operators whose meaning on two arrays of one dtype (or an array and a Python number) is
#: NumPy's in torch, TensorFlow and MXNet (measured by tests/test_user_code.py); power only with
#: a Python number as the exponent (x ** c with c != 0 follows the pin)
ARITHMETIC_OPERATORS = frozenset(
    {"add", "subtract", "multiply", "divide", "power"}
    | {"less", "less_equal", "greater", "greater_equal", "equal", "not_equal"}
)

#: dtypes a differentiated input may hold
FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})


class Backend:
    """Base adapter. Subclasses live in ``backends/<name>/backend.py``."""

    #: top-level module names whose exceptions count as coming from inside the framework
    framework_modules: tuple[str, ...] = ()
    #: the framework's NumPy-like module, searched for ops by their NumPy name
    namespace: str = ""
    #: the module of ops that depart from NumPy in that namespace ("" for none)
    departures: str = ""
    #: names of the conventions (see conventions.py) the framework's own op already follows
    native_pins: frozenset[str] = frozenset()
    #: whether the framework's ops promote mixed dtypes as NumPy does (float32 with float64 is
    #: float64, Python scalars are weak); if not, the op table casts operands first
    promotes_like_numpy: bool = True
    #: how many calls of one transform run eagerly before ``compile`` is used (tracing costs)
    compile_after: int = 0
    #: whether functions receive this backend's arrays as ``unigrad.Array`` (NumPy's operators
    #: and methods); the reference engine's tracers have NumPy's semantics already
    wraps_arrays: bool = True
    #: ops whose Python operator on two arrays of one dtype (or an array and a Python int or
    #: float) already has NumPy's meaning here: an ``Array`` then uses the operator directly
    native_operators: frozenset[str] = frozenset()

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.name: str = spec.name
        self.capabilities: dict[str, str] = dict(spec.capabilities)
        self._ops: OpTable | None = None

    def __repr__(self) -> str:
        return f"<unigrad {self.name} adapter>"

    # ----------------------------------------------------------------------- what it is
    @property
    def version(self) -> str:
        """The framework's version string."""
        raise NotImplementedError

    def devices(self) -> list[str]:
        """Devices the framework sees, e.g. ['cpu']."""
        return ["cpu"]

    # ------------------------------------------------------------------------ conversion
    def is_array(self, x: Any) -> bool:
        """True if ``x`` is this framework's array (or tracer) type."""
        raise NotImplementedError

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Convert ``x`` to this framework's array; Python floats become float64."""
        raise NotImplementedError

    def native_dtype(self, dtype: Any) -> Any:
        """The framework's dtype object for a NumPy dtype-like (``'float32'``, ``float``, ...)."""
        return np.dtype(dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Convert one of this framework's arrays to a NumPy array."""
        raise NotImplementedError

    def dtype_name(self, x: Any) -> str:
        """The NumPy-style dtype name of an array of this framework, e.g. 'float32'."""
        raise NotImplementedError

    def is_float(self, x: Any) -> bool:
        """Whether ``x`` holds floating-point data (what differentiated inputs must hold)."""
        return self.dtype_name(x) in FLOAT_DTYPES

    def shape(self, x: Any) -> tuple[int, ...]:
        """The shape of an array of this framework."""
        return tuple(x.shape)

    def prepare(self, x: Any) -> Any:
        """Convert a differentiated input for the transforms (may stay NumPy when cheaper)."""
        return self.asarray(x)

    def prepare_constant(self, x: Any) -> Any:
        """Convert a NumPy array given to a non-differentiated argument."""
        return self.asarray(x)

    def stop_gradient(self, x: Any) -> Any:
        """A copy of ``x`` that is constant at every order of differentiation."""
        raise NotImplementedError

    def evaluating(self) -> Any:
        """A context for running user code on this backend outside a transform."""
        return contextlib.nullcontext()

    def one_off(self) -> Any:
        """A context for calls each made once (compare's cells): where compiling costs more
        than it saves, the backend runs them uncompiled."""
        return contextlib.nullcontext()

    # ------------------------------------------------------------------------------- ops
    @property
    def ops(self) -> OpTable:
        """The ops behind ``unigrad.numpy`` on this backend, resolved by name on first use."""
        if self._ops is None:
            self._ops = OpTable(self)
        return self._ops

    def wrap_op(self, fn: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
        """Adapt one resolved op before the table caches it.

        ``kind`` is "departure" (from ``departures``), "convention" (from ``conventions.py``)
        or "native" (from ``namespace``). Frameworks whose ops take only their own arrays
        convert arguments here (``optable.convert_arguments``); JAX turns on 64-bit types.
        """
        return fn

    # ------------------------------------------------------------ differentiation primitives
    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        """Evaluate ``fun``; return (outputs, vjp_fn, aux). vjp_fn(cotangents) -> grads."""
        raise NotImplementedError

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        """Evaluate ``fun`` and push tangents forward: (outputs, output tangents, aux)."""
        raise UnsupportedError(self.name, "forward mode (jvp)")

    def native_gradient(self, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
        """d sum(fn(*xs)) / d xs in float64 with the framework's own idiom (what its users
        write), nothing normalised: None where the framework answers None. ``fn`` is written in
        the framework's own API. The native catalogue of ``unigrad compare`` uses this."""
        raise UnsupportedError(self.name, "a native differentiation idiom")

    # ------------------------------------------------------------------------ compilation
    def compile_one_off(self, fn: Callable[..., Any]) -> Callable[..., Any] | None:
        """``fn`` (arrays in, a list of array trees out) compiled as one program, where running
        several one-off computations (compare's cells of one case) that way is faster than
        running each on its own; None where it is not (here: the cells run one by one)."""
        return None

    def compile(self, fn: Callable[..., Any], static: tuple[int, ...]) -> Callable[..., Any] | None:
        """A compiled version of ``fn`` (a function of array leaves returning arrays), or None.

        ``static`` lists the argument positions that are not arrays (Python values): they must
        be compile-time constants. The facade compiles a whole transform this way, keeps it per
        transform object and argument structure, and calls it directly with plain arrays.

        Here: ``fn`` itself, the eager transform specialised to one argument structure, so that
        later calls with plain arrays skip re-flattening their arguments (frameworks that trace
        and compile return their compiled version instead; None runs every call in full).
        """
        return fn

    def compile_refusal(self, exc: BaseException) -> bool:
        """True when ``exc``, raised by a compiled function, means it cannot be compiled (it
        branches on array values); the facade then runs that transform eagerly from now on."""
        return False

    # ----------------------------------------------------------------- derived transforms
    def value_and_grad(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        """Value and gradient of scalar ``fun`` with respect to every primal: (value, grads,
        aux)."""
        outs, vjp_fn, aux = self.vjp(fun, primals)
        (out,) = outs
        return out, vjp_fn([self.ops.ones_like(out)]), aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        """(outputs, J, aux) with J[i][j] = d out_i / d in_j, shape out_i.shape + in_j.shape.

        Here one vjp per output element (or one jvp per input element for ``mode="fwd"``).
        """
        if mode == "fwd" and self.capabilities.get(C.FORWARD) == C.NATIVE:
            return self._jacobian_by_columns(fun, primals)
        return self._jacobian_by_rows(fun, primals)

    def _basis(self, shape: tuple[int, ...], k: int, like: Any) -> Any:
        e = np.zeros(int(np.prod(shape, dtype=int)), dtype=self.dtype_name(like))
        e[k] = 1
        return self.asarray(e.reshape(shape))

    def _jacobian_by_rows(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, list, Any]:
        outs, vjp_fn, aux = self.vjp(fun, primals)
        o = self.ops
        jac = []
        for i, out in enumerate(outs):
            shape = self.shape(out)
            rows: list[list[Any]] = [[] for _ in primals]
            for k in range(int(np.prod(shape, dtype=int))):
                cts = [o.zeros_like(q) for q in outs]
                cts[i] = self._basis(shape, k, out)
                for j, g in enumerate(vjp_fn(cts)):
                    rows[j].append(g)
            jac.append(
                [self._stacked(rows[j], shape, self.shape(p), p) for j, p in enumerate(primals)]
            )
        return outs, jac, aux

    def _stacked(self, rows: list, out_shape: tuple, in_shape: tuple, like: Any) -> Any:
        if not rows:
            return self.asarray(np.zeros((*out_shape, *in_shape), dtype=self.dtype_name(like)))
        return self.ops.reshape(self.ops.stack(rows), (*out_shape, *in_shape))

    def _jacobian_by_columns(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, list, Any]:
        o = self.ops
        cols: list[list[list[Any]]] = []
        outs: list = []
        aux = None
        for j, p in enumerate(primals):
            in_shape = self.shape(p)
            per_input: list[list[Any]] = []
            for k in range(int(np.prod(in_shape, dtype=int))):
                tangents = [o.zeros_like(q) for q in primals]
                tangents[j] = self._basis(in_shape, k, p)
                outs, touts, aux = self.jvp(fun, primals, tangents)
                per_input.append(touts)
            cols.append(per_input)
        if not any(cols):  # no input element, so no jvp ran: the outputs from a vjp
            outs, _, aux = self.vjp(fun, primals)
        jac = []
        for i, out in enumerate(outs):
            row = []
            for j, p in enumerate(primals):
                if not cols[j]:  # an empty input: an empty block
                    row.append(self._stacked([], self.shape(out), self.shape(p), p))
                    continue
                m = o.reshape(o.stack([c[i] for c in cols[j]]), (len(cols[j]), -1))
                row.append(o.reshape(o.transpose(m), (*self.shape(out), *self.shape(p))))
            jac.append(row)
        return outs, jac, aux

    def _gradient(self, fun: Fun) -> Fun:
        """The gradient of scalar ``fun`` as a function of the same primals."""

        def grads(*xs: Any) -> tuple[list, Any]:
            _, g, _ = self.value_and_grad(fun, xs)
            return list(g), None

        return grads

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        """H[i][j] = d^2 f / d in_i d in_j, as the jacobian of the gradient."""
        mode = "fwd" if self.capabilities.get(C.FORWARD) == C.NATIVE else "rev"
        _, jac, _ = self.jacobian(self._gradient(fun), primals, mode)
        return jac

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        """Hessian-vector product: forward over reverse, or reverse over reverse."""
        grads = self._gradient(fun)
        if self.capabilities.get(C.FORWARD) == C.NATIVE:
            _, touts, _ = self.jvp(grads, primals, tangents)
            return touts
        o = self.ops

        def directional(*xs: Any) -> tuple[list, Any]:
            g, _ = grads(*xs)
            total = None
            for gi, ti in zip(g, tangents):
                term = o.sum(o.multiply(gi, ti))
                total = term if total is None else o.add(total, term)
            return [total], None

        _, h, _ = self.value_and_grad(directional, primals)
        return h
