# PyTorch peer for bench/train.ts, kept alive for the whole run so that its timed blocks alternate with rede's
# (both then see the same machine). One JSON object per line on stdin, one reply per line on stdout:
#   {"setup": "lenet5" | "resnet20", "threads": N, "batch": B}  -> {"ok": true, "version": torch.__version__}
#   {"run": steps}                                                -> {"seconds": wall time, "cpu": this process's CPU time of the steps}
# The nets mirror rede's zoo: LeNet-5 (src/zoo/lenet5.ts) and ResNet-20 at 32x32x3 (src/zoo/small.ts: basic
# blocks, no conv bias, BN eps 1e-5 momentum 0.1, projection shortcut 1x1/2 conv + BN where the shape changes),
# softmax cross-entropy, SGD momentum 0.9, lr 0.01, random data from a fixed pool of batches.
import json, sys, time
import torch, torch.nn as nn

class Block(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(c)
        self.down = (nn.Sequential(nn.Conv2d(cin, c, 1, stride, 0, bias=False), nn.BatchNorm2d(c))
                     if stride != 1 or cin != c else None)
    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))

def resnet20(classes=10):
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for i, c in enumerate([16, 32, 64]):
        for b in range(3):
            layers.append(Block(cin, c, 2 if i > 0 and b == 0 else 1)); cin = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))

def lenet5(classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))

NETS = {"lenet5": (lenet5, (1, 28, 28)), "resnet20": (resnet20, (3, 32, 32))}
POOL = 8
state = {}

def setup(name, threads, batch):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    make, shape = NETS[name]
    net = make()
    net.train()
    state.update(net=net, opt=torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9), loss=nn.CrossEntropyLoss(),
                 xs=[torch.rand(batch, *shape) for _ in range(POOL)], ys=[torch.randint(0, 10, (batch,)) for _ in range(POOL)], i=0)

def step():
    s = state; i = s["i"] % POOL; s["i"] += 1
    s["opt"].zero_grad(set_to_none=True)
    s["loss"](s["net"](s["xs"][i]), s["ys"][i]).backward()
    s["opt"].step()

for line in sys.stdin:
    msg = json.loads(line)
    if "setup" in msg:
        setup(msg["setup"], int(msg["threads"]), int(msg["batch"]))
        out = {"ok": True, "version": torch.__version__, "threads": torch.get_num_threads()}
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(int(msg["run"])): step()
        out = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    sys.stdout.write(json.dumps(out) + "\n"); sys.stdout.flush()
