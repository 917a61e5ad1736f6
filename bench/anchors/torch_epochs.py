"""PyTorch anchor for nn-l1-l2: nn.Linear(50, 20), Adam lr 1e-3, batch 64, 20 epochs on rows 0..7999, one thread;
no penalty, L2 as weight_decay, L1 added to the loss, and L1 as a proximal step in Adam's metric (lam 1e-2). Prints
seconds per epoch and the exact-zero fraction of the weights for each. usage: torch_epochs.py CSV"""
import json, sys, time
import numpy as np
import torch

torch.set_num_threads(1)
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
X = torch.tensor(data[:8000, :50], dtype=torch.float32)
Y = torch.tensor(data[:8000, 50:], dtype=torch.float32)


def prox_adam(opt, weight, lam):
    group = opt.param_groups[0]
    state = opt.state[weight]
    v_hat = state["exp_avg_sq"] / (1 - group["betas"][1] ** int(state["step"]))
    threshold = group["lr"] * lam / (v_hat.sqrt() + group["eps"])
    with torch.no_grad():
        weight.copy_(weight.sign() * torch.clamp(weight.abs() - threshold, min=0))


out = {}
zeros = {}
for kind, lam in [("none", 0.0), ("l2", 1e-3), ("l1", 1e-4), ("l1-proximal", 1e-2)]:
    torch.manual_seed(0)
    model = torch.nn.Linear(50, 20)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=lam if kind == "l2" else 0.0)
    loss_fn = torch.nn.MSELoss()
    t = time.perf_counter()
    for epoch in range(20):
        perm = torch.randperm(8000)
        for start in range(0, 8000, 64):
            idx = perm[start:start + 64]
            loss = loss_fn(model(X[idx]), Y[idx])
            if kind == "l1":
                loss = loss + lam * model.weight.abs().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if kind == "l1-proximal":
                prox_adam(opt, model.weight, lam)
    out[kind] = (time.perf_counter() - t) / 20
    zeros[kind] = (model.weight == 0).float().mean().item()
print(json.dumps({"seconds_per_epoch": out, "zero_fraction": zeros}))
