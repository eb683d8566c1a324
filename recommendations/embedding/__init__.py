"""The embedding model runtime: photos in, vectors out, from an exported ONNX model and its manifest.

It knows nothing of Django and needs only ONNX Runtime, numpy and Pillow; the models are built and exported by
``recommendations.offline`` (which needs torch).
"""
