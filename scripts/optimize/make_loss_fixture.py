"""Per-row float32 cross-entropy losses as PyTorch computes them, for
test/optimize-loss.test.ts: F.cross_entropy(logits, labels, reduction="none") on
float32 logits (the AxFormer reference's per-sample loss), and F.mse_loss likewise
for regression, and F.binary_cross_entropy_with_logits for multi-label rows.

Logits: the committed models' own logits on val rows (dumped by the runtime, given as
a JSON file {name: {logits: [...], labels: [...]}} with two classes), plus synthetic
rows of 2 to 20 classes, confident and not. Run with Debian's torch 1.13:

  node --import tsx scripts/optimize/dump-logits.mts /tmp/real-logits.json   # the runtime on models/*
  /usr/bin/python3 scripts/optimize/make_loss_fixture.py /tmp/real-logits.json test/fixtures/optimize/f32-losses.json
"""
import base64, json, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
f32 = lambda a: base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode()

def ce_set(name, logits, labels):
    x = torch.tensor(np.asarray(logits, dtype=np.float32))
    y = torch.tensor(np.asarray(labels, dtype=np.int64))
    loss = F.cross_entropy(x, y, reduction="none")
    return {"name": name, "kind": "ce", "rows": int(x.shape[0]), "classes": int(x.shape[1]),
            "logits": f32(x.numpy().ravel()), "labels": [int(v) for v in labels], "losses": f32(loss.numpy()),
            "mean_f64": float(loss.double().mean())}

sets = []
real = json.load(open(sys.argv[1]))
for name, d in real.items():
    sets.append(ce_set(f"real:{name}", np.asarray(d["logits"], dtype=np.float32).reshape(-1, 2), d["labels"]))

rng = np.random.default_rng(0)
for C in [2, 3, 5, 7, 8, 12]:
    rows = 4000 if C == 2 else 1000
    scale = rng.choice([0.3, 1, 3, 6, 10, 16], size=(rows, 1)).astype(np.float32)
    logits = (rng.standard_normal((rows, C)).astype(np.float32) * scale).astype(np.float32)
    offset = rng.standard_normal((rows, 1)).astype(np.float32) * 20  # logits are not centred
    labels = rng.integers(0, C, rows)
    sets.append(ce_set(f"synthetic:C={C}", (logits + offset).astype(np.float32), labels))

# Regression: squared error in float32, the target a float32 tensor.
pred = (rng.standard_normal(2000) * 2).astype(np.float32)
target = (rng.uniform(0, 5, 2000)).astype(np.float32)
mse = F.mse_loss(torch.tensor(pred), torch.tensor(target), reduction="none")
sets.append({"name": "synthetic:mse", "kind": "mse", "rows": 2000, "classes": 1, "logits": f32(pred),
             "targets": f32(target), "losses": f32(mse.numpy()), "mean_f64": float(mse.double().mean())})

# Multi-label: the mean over labels of binary cross-entropy with logits, per row.
for C in [3, 9]:
    rows = 1500
    scale = rng.choice([0.3, 2, 8, 20], size=(rows, 1)).astype(np.float32)
    logits = (rng.standard_normal((rows, C)) * scale).astype(np.float32)
    targets = rng.integers(0, 2, (rows, C)).astype(np.float32)
    bce = F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(targets), reduction="none").mean(dim=1)
    sets.append({"name": f"synthetic:bce C={C}", "kind": "bce", "rows": rows, "classes": C, "logits": f32(logits.ravel()),
                 "targets": f32(targets.ravel()), "losses": f32(bce.numpy()), "mean_f64": float(bce.double().mean())})

json.dump({"torch": torch.__version__, "cpu_capability": [l.strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l],
           "sets": sets}, open(sys.argv[2], "w"))
print("wrote", sys.argv[2], sum(s["rows"] for s in sets), "rows")
