"""Plumbing every model's training code shares: the resumable time-budgeted loop (`chunked`),
ONNX export with its checks (`export`), manifest writing (`manifest`) and the drum lane table
(`lanes`). A model folder's `config.py` puts `models/train` on the import path."""
