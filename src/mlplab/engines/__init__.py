"""Engines: the same model, trained by PyTorch or by a from-scratch NumPy implementation."""
