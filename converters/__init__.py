"""Export edgemef models to on-device formats (ExecuTorch, CoreML, LiteRT, ONNX).

Needs the authoring extra (``pip install edgemef[author]``). Each export target lives in its own module.
"""
