"""The reference's decision on one candidate, from PyTorch: per-row F.cross_entropy on
the float32 logits of the original model and of the candidate (dumped by
scripts/optimize/dump-decision-logits.ts), the strict test's two parts, and the same
count done in float64 for contrast.
  /usr/bin/python3 scripts/optimize/make_decision_fixture.py /tmp/decision-logits.json test/fixtures/optimize/f32-decision.json
"""
import base64, json, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
d = json.load(open(sys.argv[1]))
y = torch.tensor(d["labels"], dtype=torch.int64)
z0 = torch.tensor(np.asarray(d["original"], dtype=np.float32).reshape(-1, 2))
z1 = torch.tensor(np.asarray(d["candidate"], dtype=np.float32).reshape(-1, 2))
n = len(d["labels"])
out = {"torch": torch.__version__, "rows": n, "labels": d["labels"],
       "original_logits": base64.b64encode(z0.numpy().astype("<f4").tobytes()).decode(),
       "candidate_logits": base64.b64encode(z1.numpy().astype("<f4").tobytes()).decode()}
for name, dtype in [("f32", torch.float32), ("f64", torch.float64)]:
    l0 = F.cross_entropy(z0.to(dtype), y, reduction="none")
    l1 = F.cross_entropy(z1.to(dtype), y, reduction="none")
    L0, L1 = float(l0.double().mean()), float(l1.double().mean())
    no_worse = int((l1 <= l0).sum())
    out[name] = {"original_loss": L0, "candidate_loss": L1, "rows_no_worse": no_worse,
                 "accepted": bool(L1 < L0 and no_worse > n // 2)}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print({k: out[k] for k in ("f32", "f64")})
