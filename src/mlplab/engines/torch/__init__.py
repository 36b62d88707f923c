"""The PyTorch engine over a leading model axis K, on CPU or CUDA.

``model`` (the stacked ``nn.Module``, and one model as a plain one), ``optim`` (each
optimizer's formula once, over K), ``backend`` (the :class:`Backend` the loop drives).
"""
