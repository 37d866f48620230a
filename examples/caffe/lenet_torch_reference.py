# Caffe's LeNet recipe (lenet_train_test.prototxt + lenet_solver.prototxt) written out in PyTorch, with
# Caffe's update by hand rather than torch.optim, as an independent check of what the recipe reaches on rede's
# embedded digits (docs/caffe.md). Caffe's semantics (BVLC/caffe sgd_solver.cpp, filler.hpp):
#   xavier filler (variance_norm FAN_IN): U(±sqrt(3 / fan_in)); constant bias filler: 0
#   data: byte · 0.00390625; batches read in stored order (Caffe's LMDB order, no shuffle), wrapping around
#   lr = base_lr · (1 + gamma·iter)^(−power)                                     (lr_policy "inv")
#   per blob: g += weight_decay · decay_mult · w;  V = momentum·V + lr·lr_mult·g;  w −= V
#   lr_mult 1 on weights, 2 on biases; decay_mult 1 on both (LeNet states none)
# Input: the byte files written from rede's split (8,000 train / 2,000 test), e.g. by
#   node --import tsx -e "…mnistDigits() → {train,test}-{x,y}.u8" (see docs/caffe.md)
# Usage: python3 examples/caffe/lenet_torch_reference.py DIR [--seed N] [--max-iter N] [--shuffle]
import argparse, math, time
import numpy as np
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument('dir')
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--max-iter', type=int, default=10000)
ap.add_argument('--shuffle', action='store_true', help='reshuffle each epoch (rede does) instead of stored order')
a = ap.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(1)

def load(split):
    x = np.fromfile(f'{a.dir}/{split}-x.u8', dtype=np.uint8).astype(np.float32) * 0.00390625
    y = np.fromfile(f'{a.dir}/{split}-y.u8', dtype=np.uint8).astype(np.int64)
    return torch.from_numpy(x.reshape(-1, 1, 28, 28)), torch.from_numpy(y)

xtr, ytr = load('train')
xte, yte = load('test')

def xavier(*shape):
    fan_in = int(np.prod(shape[1:]))
    s = math.sqrt(3.0 / fan_in)
    return (torch.rand(*shape) * 2 - 1) * s

P = {
    'conv1.w': xavier(20, 1, 5, 5), 'conv1.b': torch.zeros(20),
    'conv2.w': xavier(50, 20, 5, 5), 'conv2.b': torch.zeros(50),
    'ip1.w': xavier(500, 800), 'ip1.b': torch.zeros(500),
    'ip2.w': xavier(10, 500), 'ip2.b': torch.zeros(10),
}
for p in P.values(): p.requires_grad_(True)
V = {k: torch.zeros_like(p) for k, p in P.items()}
LR_MULT = {k: (2.0 if k.endswith('.b') else 1.0) for k in P}

def forward(x):
    h = F.max_pool2d(F.conv2d(x, P['conv1.w'], P['conv1.b']), 2, 2)
    h = F.max_pool2d(F.conv2d(h, P['conv2.w'], P['conv2.b']), 2, 2)
    h = F.relu(F.linear(h.flatten(1), P['ip1.w'], P['ip1.b']))
    return F.linear(h, P['ip2.w'], P['ip2.b'])

def test(it):
    with torch.no_grad():
        acc = (forward(xte).argmax(1) == yte).float().mean().item()
    print(f'Iteration {it}, Testing net: accuracy = {acc:.4f}', flush=True)
    return acc

base_lr, momentum, wd, gamma, power, B = 0.01, 0.9, 0.0005, 0.0001, 0.75, 64
n = xtr.shape[0]
order = torch.arange(n)
t0 = time.time()
for it in range(a.max_iter):
    if it % 500 == 0: test(it)
    start = (it * B) % n
    if a.shuffle and start < B: order = torch.randperm(n)
    idx = torch.cat([order, order])[start:start + B]
    loss = F.cross_entropy(forward(xtr[idx]), ytr[idx])
    for p in P.values(): p.grad = None
    loss.backward()
    lr = base_lr * (1 + gamma * it) ** (-power)
    with torch.no_grad():
        for k, p in P.items():
            g = p.grad + wd * p
            V[k].mul_(momentum).add_(g, alpha=lr * LR_MULT[k])
            p.sub_(V[k])
    if it % 1000 == 0: print(f'Iteration {it}, loss = {loss.item():.6f}, lr = {lr:.6g}', flush=True)
final = test(a.max_iter)
print(f'final test accuracy {final:.4f} ({time.time() - t0:.1f} s)')
