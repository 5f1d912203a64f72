"""Encoding: a CLIP-family model's two towers (PyTorch or ONNX Runtime), the query encoder with its micro-batches and
vector cache, and the vector arithmetic the build, the engine and the evaluation share."""
