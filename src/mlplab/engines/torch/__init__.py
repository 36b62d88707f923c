"""The PyTorch engine: an ``nn.Module`` and ``torch.optim``, on CPU or CUDA."""
