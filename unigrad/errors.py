"""The exceptions unigrad raises. Each message says what went wrong and what to do."""

from __future__ import annotations


class UnigradError(Exception):
    """Base class of every error unigrad raises on purpose."""


class BackendUnavailableError(UnigradError, RuntimeError):
    """A known backend whose framework cannot run here; the message holds the install command."""

    def __init__(self, backend: str, message: str, hint: str = "") -> None:
        self.backend = backend
        self.hint = hint
        super().__init__(f"{message}\n  fix: {hint}" if hint else message)


class UnsupportedError(UnigradError, NotImplementedError):
    """A backend lacks a capability (a declared gap). Reports show it as 'unsupported'."""

    def __init__(self, backend: str, capability: str, detail: str = "") -> None:
        self.backend = backend
        self.capability = capability
        self.detail = detail
        msg = f"backend {backend!r} does not support {capability}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class NumpyFunctionUnsupportedError(UnsupportedError, TypeError):
    """A NumPy function or ufunc method called on the arrays a differentiated function receives
    (np.median(x)) that unigrad has no op for: a gap, and a TypeError, as NumPy's own dispatch
    protocol makes it. Never a silent conversion to a constant."""


class FrameworkError(UnigradError, RuntimeError):
    """An error raised deep inside a framework, re-raised with what the user can do about it.

    The framework's own exception is kept as ``__cause__``.
    """


class WorkerError(UnigradError, RuntimeError):
    """A backend worker process crashed, hung or could not decode a request."""

    def __init__(self, message: str, kind: str = "error") -> None:
        self.kind = kind  # "crash", "timeout", "protocol" or "error"
        super().__init__(message)


class ScalarOutputError(UnigradError, ValueError):
    """grad/value_and_grad/hessian was given a function whose output is not a scalar."""


class DifferentiationTypeError(UnigradError, TypeError):
    """A differentiated argument holds integer, bool or complex data."""


class OutputTypeError(UnigradError, TypeError):
    """A differentiated function returned something that is not a float number or array."""


class EscapedNumpyError(UnigradError, TypeError):
    """The function computed its output with NumPy instead of the backend: no derivative."""


class ComplexOutputError(UnigradError, TypeError):
    """A gradient was asked of a function whose output is complex."""


class ComplexUnsupportedError(UnsupportedError, ComplexOutputError):
    """Complex numbers on a backend that has none (MXNet 1.9): a gap, and a ComplexOutputError
    for code written for the other backends, where a gradient of a complex output is one."""


def complex_output_message(dtype: str) -> str:
    """What to do when a gradient is asked of a complex output."""
    return (
        f"a gradient needs a real-valued output, but the function returned {dtype}. "
        "Differentiate a real number made from it: its real part (y.real, or np.real(y)) "
        "or its magnitude (unigrad.numpy.abs(y)); for the derivatives of a complex output "
        "use unigrad.jacobian or unigrad.vjp"
    )


class ArrayIndexError(UnigradError, IndexError):
    """An index out of range, or one NumPy would not take (never a clamped or wrapped value)."""


class ArgumentError(UnigradError, ValueError):
    """An op of unigrad.numpy was given arguments NumPy would refuse too (the message names the
    op and what is wrong)."""


class ArgumentTypeError(UnigradError, TypeError):
    """An op of unigrad.numpy was given an argument of a kind it cannot take."""


class ArrayAxisError(ArgumentError, IndexError):
    """An axis out of range for the array (as NumPy's AxisError, a ValueError and an
    IndexError)."""


class OpArgumentError(ArgumentError):
    """An op was given arguments it cannot take: shapes that do not fit, a bad padding or axis,
    labels in the wrong format. The message says what was expected and how to fix the call."""


class InPlaceError(UnigradError, TypeError):
    """An array was assigned to in place (``x[0] = 0``): unigrad's arrays are values."""


class ForeignArrayError(UnigradError, TypeError):
    """An array of one framework met the values of another inside a transform."""

    def __init__(self, here: str, other: str) -> None:
        super().__init__(
            f"cannot combine a {here} array with {other}: an array of another framework, made "
            "elsewhere (under another backend, or closed over), meets the values of this one; "
            "convert it with unigrad.to_numpy(...) first, or pass it as an argument"
        )


#: messages shared by unigrad's arrays and the reference engine's tracers
TOLIST_TRACED = (
    "x.tolist() of a value being differentiated makes Python numbers, which are constants: "
    "every derivative through them would be zero. Iterate over the array itself (for v in x, "
    "or x[i]) and use unigrad.numpy ops, or unigrad.detach(x).tolist() if you mean constants."
)

IN_PLACE = (
    "unigrad arrays cannot be changed in place (as in JAX): build the new array with "
    "unigrad.numpy.where, concatenate or stack instead"
)
