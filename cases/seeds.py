"""Every derivative computed in the five seed notebooks (../shared/seeds/), with exact values.

Each case names its seed file and cell. Where a seed shows a framework idiom, the case pins
what that idiom computes; its ``notes`` say what the idiom means in unigrad.
"""

import numpy as np

import unigrad
import unigrad.numpy as unp
from unigrad.case import Case

S0 = "000_85e16e08a85d67b8.txt"
S1 = "001_914aed5e8da68827.txt"
S2 = "002_a0dc9724c7454215.txt"
S3 = "003_ef587f390d474864.txt"
S4 = "004_bcfd75fa30cc0325.txt"

NO_SECOND_ORDER = "MXNet 1.9 has no second-order gradient for x*y / x**c (_backward_*_scalar)"
MX_HESSIAN_GAP = {"mxnet": {"hessian": NO_SECOND_ORDER, "hvp": NO_SECOND_ORDER}}


def seed000_f(x, y):
    """z = x**2 + x*y + y**2."""
    return x**2 + x * y + y**2


def seed001_f1(x):
    return 3 * x**2


def seed001_f2(x, y):
    return 2 * x**2 + 3 * y


def seed001_jac_f(x, y):
    return unp.stack([x**2 + y**2, x - y])


def seed001_jac_vec(v):
    return unp.stack([v[0] ** 2 + v[1] ** 2, v[0] - v[1]])


def seed001_hess_f(x, y):
    return x**2 + y**2


def seed001_hess_vec(v):
    return v[0] ** 2 + v[1] ** 2


def seed002_dot(x):
    return 2 * unp.dot(x, x)


def seed002_square(x):
    return x * x


def seed002_sum_square(x):
    return unp.sum(x * x)


def seed002_detach(x):
    u = unigrad.detach(x * x)
    return unp.sum(u * x)


def seed003_square(x):
    return x**2


def seed003_quadratic(x):
    return x**2 + 2 * x + 2


def seed003_quadratic_vec(x):
    return unp.sum(x**2 + 2 * x + 2)


def seed004_f(X, Y, Z):
    return unp.sum(X * Y + Z)


# seed 004 In[3]: the notebook's random X, as printed
X004 = np.array(
    [
        [0.43787304, 0.96557349, 1.0921883],
        [0.13662005, -0.38701585, 0.68148381],
        [-0.09396063, 1.12197495, -1.1509547],
        [0.90929498, -0.33493472, -0.35300799],
    ]
)
Z004 = np.arange(1, 13).reshape(4, 3).astype(float)  # the seed's integer Z, made float

CASES = [
    Case(
        id="seed000.jax_argnums",
        source=f"{S0} In[7]-In[9]",
        function=seed000_f,
        inputs=(3.0, 4.0),
        argnums=(0, 1),
        transforms=("value", "grad", "jacobian", "vjp", "jvp", "hessian", "hvp"),
        expected={
            "value": 37.0,
            "grad": (10.0, 11.0),
            "jacobian": (10.0, 11.0),
            "hessian": ((2.0, 1.0), (1.0, 2.0)),
        },
        gaps=MX_HESSIAN_GAP,
        notes="jax.grad(f, argnums=0|1|(0, 1)) is unigrad.grad(f, argnums=...).",
    ),
    Case(
        id="seed000.torch_backward",
        source=f"{S0} In[10]-In[18]",
        function=seed000_f,
        inputs=(3.0, 4.0),
        argnums=(0, 1),
        transforms=("value", "grad"),
        expected={"value": 37.0, "grad": (10.0, 11.0)},
        notes="zt.backward(); (xt.grad, yt.grad) is unigrad.grad(f, argnums=(0, 1)). "
        "backward() accumulates into .grad; unigrad calls are pure. The zt.grad_fn walk "
        "(In[14]-In[16]) is unigrad.trace_graph(f, 3.0, 4.0).tree(): add(add(power, "
        "multiply), power), checked in tests/test_compare.py.",
    ),
    Case(
        id="seed000.tf_persistent_tape",
        source=f"{S0} In[19]-In[22]",
        function=seed000_f,
        inputs=(3.0, 4.0),
        argnums=(0, 1),
        transforms=("grad",),
        expected={"grad": (10.0, 11.0)},
        notes="A persistent GradientTape asked twice (tape.gradient(z, x), then y) is one "
        "unigrad.grad call with argnums=(0, 1), or two calls: nothing is consumed.",
    ),
    Case(
        id="seed001.derivative",
        source=f"{S1} In[52]",
        function=seed001_f1,
        inputs=(2.0,),
        transforms=("value", "grad", "jvp", "vjp"),
        expected={"value": 12.0, "grad": 12.0},
    ),
    Case(
        id="seed001.partials",
        source=f"{S1} In[53]-In[54]",
        function=seed001_f2,
        inputs=(2.0, 1.5),
        argnums=(0, 1),
        transforms=("value", "grad"),
        expected={"value": 12.5, "grad": (8.0, 3.0)},
        notes="The gradient vector of In[54] is the tuple of partials.",
    ),
    Case(
        id="seed001.jacobian",
        source=f"{S1} In[55]-In[66]",
        function=seed001_jac_f,
        inputs=(2.0, 1.0),
        argnums=(0, 1),
        transforms=("value", "jacobian", "vjp", "jvp"),
        expected={"value": [5.0, 1.0], "jacobian": ([4.0, 1.0], [2.0, -1.0])},
        notes="Textbook layout: stacked by argument, J = [[4, 2], [1, -1]]. The notebook's "
        "torch.stack(F.jacobian(f, (x, y))) stacks per input and prints the transpose "
        "[[4, 1], [2, -1]].",
    ),
    Case(
        id="seed001.jacobian_vmap",
        source=f"{S1} In[66] (jacobian through vmap and grad)",
        function=seed001_jac_vec,
        inputs=(np.array([2.0, 1.0]),),
        transforms=("jacobian", "vjp", "jvp"),
        expected={"jacobian": [[4.0, 2.0], [1.0, -1.0]]},
        notes="vmap(grad(f_i)) over the outputs is unigrad.jacobian(f, mode='rev'): one row "
        "per output.",
    ),
    Case(
        id="seed001.hessian",
        source=f"{S1} In[77]",
        function=seed001_hess_f,
        inputs=(2.0, 1.0),
        argnums=(0, 1),
        transforms=("value", "grad", "hessian", "hvp"),
        expected={"value": 5.0, "grad": (4.0, 2.0), "hessian": ((2.0, 0.0), (0.0, 2.0))},
        gaps=MX_HESSIAN_GAP,
    ),
    Case(
        id="seed001.hessian_jacobian_of_grad",
        source=f"{S1} In[77] (Jax Hessian using jax.jacobian: fails in the notebook)",
        function=seed001_hess_vec,
        inputs=(np.array([2.0, 1.0]),),
        transforms=("grad", "hessian", "hvp"),
        expected={"grad": [4.0, 2.0], "hessian": [[2.0, 0.0], [0.0, 2.0]]},
        gaps=MX_HESSIAN_GAP,
        notes="jax.jacobian(jax.grad(f), argnums=1) fails in the notebook because f has one "
        "argument; unigrad.jacobian(unigrad.grad(f))(v) works and equals unigrad.hessian(f).",
    ),
    Case(
        id="seed002.dot",
        source=f"{S2} In[3]-In[11]",
        function=seed002_dot,
        inputs=(np.arange(4.0),),
        transforms=("value", "grad", "jvp"),
        expected={"value": 28.0, "grad": [0.0, 4.0, 8.0, 12.0]},
    ),
    Case(
        id="seed002.nonscalar_backward",
        source=f"{S2} In[12]-In[18]",
        function=seed002_square,
        inputs=(np.arange(4.0),),
        transforms=("value", "jacobian", "vjp"),
        expected={"value": [0.0, 1.0, 4.0, 9.0], "jacobian": np.diag([0.0, 2.0, 4.0, 6.0])},
        notes="MXNet's y.backward() and TF's t.gradient(y, x) on a non-scalar y sum it "
        "silently; that is vjp with a cotangent of ones. unigrad.grad refuses a non-scalar.",
    ),
    Case(
        id="seed002.sum_semantics",
        source=f"{S2} In[14], In[16], In[18]",
        function=seed002_sum_square,
        inputs=(np.arange(4.0),),
        transforms=("grad",),
        expected={"grad": [0.0, 2.0, 4.0, 6.0]},
        notes="What backward of a non-scalar computes, written out: grad of sum(x * x).",
    ),
    Case(
        id="seed002.detach",
        source=f"{S2} In[19]-In[21], In[23]-In[25], In[27]-In[29]",
        function=seed002_detach,
        inputs=(np.arange(4.0),),
        transforms=("value", "grad"),
        expected={"value": 36.0, "grad": [0.0, 1.0, 4.0, 9.0]},
        notes="y.detach() / tf.stop_gradient(y) is unigrad.detach: a constant at every order.",
        no_finite_differences="detach removes x*x from the derivative on purpose; finite "
        "differences of the same function give 3x**2",
    ),
    Case(
        id="seed002.gradient_twice",
        source=f"{S2} In[22], In[26], In[30]",
        function=seed002_sum_square,
        inputs=(np.arange(4.0),),
        transforms=("grad",),
        expected={"grad": [0.0, 2.0, 4.0, 6.0]},
        notes="A second gradient from the same recording (MXNet's second backward, torch "
        "after x.grad.zero_(), a persistent tape) is a second unigrad.grad call.",
    ),
    Case(
        id="seed003.square",
        source=f"{S3} In[1]-In[6], In[8]-In[11]",
        function=seed003_square,
        inputs=(5.0,),
        transforms=("value", "grad"),
        expected={"value": 25.0, "grad": 10.0},
    ),
    Case(
        id="seed003.quadratic",
        source=f"{S3} In[7]",
        function=seed003_quadratic,
        inputs=(2.0,),
        transforms=("value", "grad"),
        expected={"value": 10.0, "grad": 6.0},
    ),
    Case(
        id="seed003.quadratic_shape1",
        source=f"{S3} In[7] (x = torch.tensor([2.]): shape (1,))",
        function=seed003_quadratic_vec,
        inputs=(np.array([2.0]),),
        transforms=("value", "grad"),
        expected={"value": 10.0, "grad": [6.0]},
    ),
    Case(
        id="seed004.backprop",
        source=f"{S4} In[3]-In[13] (NumPy by hand), In[15]-In[21] (TF1 graph)",
        function=seed004_f,
        inputs=(X004, np.ones((4, 3)), Z004),
        argnums=(0, 1, 2),
        transforms=("value", "grad", "vjp"),
        expected={
            "value": float(X004.sum() + 78.0),
            "grad": (np.ones((4, 3)), X004, np.ones((4, 3))),
        },
        notes="grad_X = Y, grad_Y = X, grad_Z = 1, as the notebook derives by hand.",
    ),
]
