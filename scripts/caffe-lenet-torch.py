#!/usr/bin/env python3
# An independent implementation of Caffe's LeNet recipe (examples/caffe/lenet_solver.prototxt +
# lenet_train_test.prototxt, from BVLC/caffe examples/mnist), in PyTorch, to check rede's Caffe path on the
# same digits. It writes Caffe's update by hand rather than using torch.optim, so each term is visible:
#   Caffe SGDSolver: g' = g + weight_decay·decay_mult·w;  v = momentum·v + lr·lr_mult·g';  w = w − v
#   lr_policy "inv": lr = base_lr·(1 + gamma·iter)^(−power)
#   xavier filler (variance_norm FAN_IN): U(−s, s), s = sqrt(3 / fan_in), fan_in = count / num_output
#   SoftmaxWithLoss: mean over the batch;  transform_param scale 0.00390625: x = byte / 256
# Data: the file written by scripts/export-digits.mts (rede's 8,000 / 2,000 split, rede's fixed order).
# --order caffe reads the training digits in stored order, cycling, as Caffe's Data layer reads an LMDB;
# --order shuffle draws a fresh permutation every epoch (torch generator seeded with --seed).
# Caffe tests at iteration 0 (test_initialization), every test_interval, and after the last step.
# Usage: python3 scripts/caffe-lenet-torch.py DIGITS.bin --seed 1 [--order caffe|shuffle] [--max-iter 10000]
import argparse, math, struct, sys, time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('digits')
p.add_argument('--seed', type=int, default=1)
p.add_argument('--order', choices=['caffe', 'shuffle'], default='caffe')
p.add_argument('--max-iter', type=int, default=10000)
p.add_argument('--test-interval', type=int, default=500)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

BASE_LR, MOMENTUM, WEIGHT_DECAY, GAMMA, POWER, BATCH = 0.01, 0.9, 0.0005, 0.0001, 0.75, 64

def read_split(buf, off):
    (n,) = struct.unpack_from('<I', buf, off)
    off += 4
    x = torch.frombuffer(bytearray(buf[off:off + n * 784]), dtype=torch.uint8).float().div_(256).view(n, 1, 28, 28)
    off += n * 784
    y = torch.frombuffer(bytearray(buf[off:off + n]), dtype=torch.uint8).long()
    return x, y, off + n

buf = open(a.digits, 'rb').read()
xtr, ytr, off = read_split(buf, 0)
xte, yte, off = read_split(buf, off)
if off != len(buf):
    sys.exit(f'caffe-lenet-torch: {a.digits} has {len(buf) - off} bytes after the test split, expected 0')

def xavier(shape):
    fan_in = math.prod(shape[1:])  # Caffe: count / num (num = output channels / outputs)
    s = math.sqrt(3.0 / fan_in)
    return torch.empty(shape).uniform_(-s, s)

# (name, tensor, lr_mult, decay_mult): every param { lr_mult } in the net; decay_mult is unset, so 1.
params = [
    ('conv1.w', xavier((20, 1, 5, 5)), 1, 1), ('conv1.b', torch.zeros(20), 2, 1),
    ('conv2.w', xavier((50, 20, 5, 5)), 1, 1), ('conv2.b', torch.zeros(50), 2, 1),
    ('ip1.w', xavier((500, 800)), 1, 1), ('ip1.b', torch.zeros(500), 2, 1),
    ('ip2.w', xavier((10, 500)), 1, 1), ('ip2.b', torch.zeros(10), 2, 1),
]
for _, t, _, _ in params:
    t.requires_grad_(True)
W = {name: t for name, t, _, _ in params}
velocity = [torch.zeros_like(t) for _, t, _, _ in params]

def forward(x):
    h = F.max_pool2d(F.conv2d(x, W['conv1.w'], W['conv1.b']), 2, 2)      # 20×24×24 → 20×12×12
    h = F.max_pool2d(F.conv2d(h, W['conv2.w'], W['conv2.b']), 2, 2)      # 50×8×8 → 50×4×4
    # ip1 and ip2 as convolutions whose kernels cover their whole input: the same products as F.linear on the
    # C×H×W-flattened input (Caffe's order), but on oneDNN's convolution, 2× faster per step here than this
    # torch build's generic BLAS.
    h = F.relu(F.conv2d(h, W['ip1.w'].view(500, 50, 4, 4), W['ip1.b']))  # 500×1×1
    return F.conv2d(h, W['ip2.w'].view(10, 500, 1, 1), W['ip2.b']).flatten(1)

def test(it):
    with torch.no_grad():
        correct = sum(int((forward(xte[i:i + 500]).argmax(1) == yte[i:i + 500]).sum()) for i in range(0, len(yte), 500))
    print(f'iter {it:5d}  held-out accuracy {correct / len(yte):.4f}  ({correct}/{len(yte)})  {time.time() - t0:.0f} s', flush=True)
    return correct / len(yte)

gen = torch.Generator().manual_seed(a.seed)
order = torch.randperm(len(ytr), generator=gen) if a.order == 'shuffle' else torch.arange(len(ytr))
cursor = 0
t0 = time.time()
print(f'caffe-lenet-torch: torch {torch.__version__}, seed {a.seed}, order {a.order}, {len(ytr)} train / {len(yte)} test, {a.max_iter} iterations', flush=True)
for it in range(a.max_iter):
    if it % a.test_interval == 0:
        test(it)
    idx = []
    while len(idx) < BATCH:  # Caffe's Data layer wraps around to the start of the LMDB
        if cursor == len(ytr):
            cursor = 0
            if a.order == 'shuffle':
                order = torch.randperm(len(ytr), generator=gen)
        take = min(BATCH - len(idx), len(ytr) - cursor)
        idx.extend(order[cursor:cursor + take].tolist())
        cursor += take
    loss = F.cross_entropy(forward(xtr[idx]), ytr[idx])
    for _, t, _, _ in params:
        t.grad = None
    loss.backward()
    lr = BASE_LR * (1 + GAMMA * it) ** (-POWER)
    with torch.no_grad():
        for (name, t, lr_mult, decay_mult), v in zip(params, velocity):
            g = t.grad + WEIGHT_DECAY * decay_mult * t
            v.mul_(MOMENTUM).add_(g, alpha=lr * lr_mult)
            t.sub_(v)
    if it % 1000 == 0:
        print(f'iter {it:5d}  loss {loss.item():.4f}  lr {lr:.6f}', flush=True)
final = test(a.max_iter)
print(f'final held-out accuracy {final:.4f}  wall {time.time() - t0:.0f} s', flush=True)
