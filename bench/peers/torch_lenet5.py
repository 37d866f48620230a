# PyTorch peer for bench/train.ts: the same LeNet-5, loss, optimizer and batch, on CPU with N threads.
# Prints one JSON object: {"examples_per_s": median, "threads": N, "version": torch.__version__}.
import json, sys, time
import torch, torch.nn as nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
quick = '--quick' in sys.argv
torch.set_num_threads(threads)
torch.manual_seed(1)
net = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
B, POOL = 64, 16
xs = [torch.rand(B, 1, 28, 28) for _ in range(POOL)]
ys = [torch.randint(0, 10, (B,)) for _ in range(POOL)]

def step(i):
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(net(xs[i % POOL]), ys[i % POOL])
    loss.backward()
    opt.step()

for i in range(20 if quick else 60): step(i)
rates = []
for s in range(3 if quick else 7):
    t0 = time.perf_counter()
    n = 20 if quick else 50
    for i in range(n): step(i)
    rates.append(n * B / (time.perf_counter() - t0))
rates.sort()
print(json.dumps({"examples_per_s": rates[len(rates) // 2], "threads": threads, "version": torch.__version__}))
