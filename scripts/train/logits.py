"""Logits of a saved checkpoint in the recipe's torch model, for checking other runtimes against it.

    /usr/bin/python3 scripts/train/logits.py MODEL_DIR < inputs.json > logits.json

inputs.json: [{"input_ids": [...], "token_type_ids": [...]}, ...]; output: [[logit, ...], ...] (float32,
one sequence at a time, no padding).
"""

import json
import os
import struct
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import BertForSequenceClassification  # noqa: E402


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F16": "<f2", "F32": "<f4"}[e["dtype"]]
        begin, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=dtype).astype(np.float32).reshape(e["shape"]))
    return out


def main():
    torch.set_num_threads(2)
    d = sys.argv[1]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["num_labels"] = len(cfg["id2label"])
    model = BertForSequenceClassification(cfg)
    model.load_state_dict(load_safetensors(os.path.join(d, "model.safetensors")))
    model.eval()
    out = []
    with torch.no_grad():
        for x in json.load(sys.stdin):
            ids = torch.tensor([x["input_ids"]])
            types = torch.tensor([x["token_type_ids"]])
            out.append(model(ids, types, torch.ones_like(ids))[0].tolist())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
