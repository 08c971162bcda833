"""Segmentation models: the registry, the model file, prediction and ONNX export.

Import the submodules (``slidewatch.models.registry``, ``.modelfile``, ``.predictor``,
``.onnx_export``) directly; this package imports nothing so that reading a model
description does not load torch.
"""
