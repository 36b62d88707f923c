"""Training: the loop, the metrics, and the ``train(config)`` entry point."""
