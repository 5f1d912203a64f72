"""Contrastive fine-tuning of a CLIP-family encoder on the catalog (`finetune.py`).

One job per module: `config` (settings and their fingerprint), `data` (held-out split, product text fields,
photo/text batches), `loss` (multi-field InfoNCE), `checkpoint` (resumable training state), `loop` (the
optimisation), `heldout` (before/after evaluation through `search.evaluate`), `card` (the model card),
`hub` (push to the Hub) and `runner` (the whole job, as `finetune.py` runs it).
"""
