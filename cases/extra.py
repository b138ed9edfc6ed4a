"""Cases beyond the seeds: an MLP loss, a non-quadratic Hessian, a jvp/vjp pair, pytree
parameters, Python control flow and a float32 matmul chain."""

import numpy as np

import unigrad.numpy as unp
from unigrad.case import Case

MX2 = "MXNet 1.9 has no second-order gradient for the ops used here (_backward_* refused)"


def mlp_inputs(rng):
    params = {
        "w1": rng.standard_normal((6, 8)) * 0.5,
        "b1": rng.standard_normal(8) * 0.1,
        "w2": rng.standard_normal((8, 3)) * 0.5,
        "b2": rng.standard_normal(3) * 0.1,
    }
    x = rng.standard_normal((5, 6))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    return params, x, y


def mlp_loss(p, x, y):
    h = unp.tanh(x @ p["w1"] + p["b1"])
    z = h @ p["w2"] + p["b2"]
    return -unp.sum(y * (z - unp.logsumexp(z, axis=1, keepdims=True))) / 5.0


def nonquadratic(x):
    return unp.sum(unp.exp(x) * unp.sin(x)) + unp.prod(x) + unp.sum(unp.log1p(x * x))


def pair(x):
    return unp.sin(x) * x, unp.log1p(x * x)


def pytree_fn(params, scale):
    a = params["layers"][0]
    b = params["layers"][1]
    return scale * unp.sum(unp.tanh(a @ b) + params["bias"] ** 2)


def control_flow(x):
    total = 0.0
    for i in range(3):
        if unp.sum(x) * (i + 1) > 1.0:
            total = total + unp.sum(x**2) * i
        else:
            total = total + unp.sum(unp.sin(x))
    return total


def matmul_chain(a, b, c):
    return unp.sum(unp.tanh(a @ b) @ c)


CASES = [
    Case(
        id="extra.mlp_loss",
        source="beyond the seeds: a 6-8-3 tanh MLP with softmax cross-entropy",
        function=mlp_loss,
        inputs=mlp_inputs,
        transforms=("value", "grad", "vjp"),
    ),
    Case(
        id="extra.hessian_nonquadratic",
        source="beyond the seeds: Hessian of sum(exp(x) sin(x)) + prod(x) + sum(log1p(x^2))",
        function=nonquadratic,
        inputs=(np.array([0.3, -0.7, 1.1]),),
        transforms=("value", "grad", "hessian", "hvp"),
        gaps={"mxnet": {"hessian": MX2, "hvp": MX2}},
    ),
    Case(
        id="extra.jvp_vjp_pair",
        source="beyond the seeds: forward and reverse mode of a two-output function",
        function=pair,
        inputs=(np.array([0.5, -1.5, 2.0]),),
        transforms=("value", "jacobian", "jvp", "vjp"),
    ),
    Case(
        id="extra.pytree_params",
        source="beyond the seeds: parameters as a dict of lists of arrays",
        function=pytree_fn,
        inputs=lambda rng: (
            {
                "layers": [rng.standard_normal((2, 3)), rng.standard_normal((3, 2))],
                "bias": rng.standard_normal(2),
            },
            0.5,
        ),
        transforms=("value", "grad", "vjp"),
    ),
    Case(
        id="extra.control_flow",
        source="beyond the seeds: Python branches and a loop on values",
        function=control_flow,
        inputs=(np.array([0.2, 0.3, -0.1]),),
        transforms=("value", "grad"),
    ),
    Case(
        id="extra.float32_matmul_chain",
        source="beyond the seeds: a float32 matmul chain",
        function=matmul_chain,
        inputs=lambda rng: (
            rng.standard_normal((4, 5)),
            rng.standard_normal((5, 6)),
            rng.standard_normal((6, 2)),
        ),
        argnums=(0, 1, 2),
        transforms=("value", "grad", "vjp"),
        dtypes=("float32",),
    ),
]
