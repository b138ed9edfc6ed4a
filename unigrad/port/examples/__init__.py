"""Worked examples of port checks: a small MLP and a small CNN written natively in torch.nn, in
JAX and in Keras 3 on TensorFlow, with the same weights, and the same models with the classic
porting bugs planted (a kernel left in torch's layout, Keras's default layer-norm epsilon, a
sum where the reference takes a mean, JAX's default GELU).

``data`` holds the weights (named as torch names them), the batches and the layouts;
``torch_models``, ``jax_models`` and ``keras_models`` hold each framework's code, and each
imports its framework. The README's port-check example runs these.
"""
