"""Training: the loop, the batched trainer, the metrics, and ``train(config)``.

Named ``training`` (not ``train``) so that the subpackage never shadows the
``mlplab.train`` function once one of its modules is imported.
"""
