#!/usr/bin/env python3
# An independent implementation of rede's unconditional GAN recipe (src/experiments/gan.ts, the FULL
# settings' `nets.gan`) in PyTorch, to check rede's GAN training on the same digits:
#   G: z (latent) → dense 7·7·2g (no bias) → BN → ReLU → [2g, 7, 7] → convT g 4×4/2 (no bias) → BN → ReLU
#      → convT 1 4×4/2 → sigmoid
#   D: conv d 4×4/2 → LReLU 0.2 → conv 2d 4×4/2 → LReLU 0.2 → flatten [→ dense --d-hidden → LReLU 0.2] → dense 1 (a logit)
#   init as rede's layers without an activation of their own: Glorot uniform (Keras's fans), biases 0,
#   BN γ 1 β 0, BN momentum 0.1 and ε 1e-5 (rede's defaults are PyTorch's)
#   D step: BCE with logits on B real images (target --real, 0.9) then B generated (target 0), one mean over 2B;
#   G step: fresh noise, BCE(D(G(z)), 1), D not updated; Adam (β1 0.5, β2 0.999, ε 1e-8) for each
#   Measured: an exponential moving average of G's parameters (β_t = min(β, (1+t)/(10+t)), gan-average.ts),
#   its BN running statistics re-estimated by 20 training-mode passes of 250 noise rows; G's last weights too.
# Data: the file written by scripts/export-digits.mts (rede's 8,000 / 2,000 split); pixels byte/255 as rede.
# Output: OUT/samples-eNN.f32 (2,000 × 784 float32, little-endian, fixed noise; the averaged G) and
# OUT/samples-eNN-last.f32 (G's last weights) at every --every epochs, and OUT/log.json (losses per epoch).
# Score them with rede's measuring classifier: node --import tsx scripts/gan-score.mts OUT/*.f32
# Usage: /usr/bin/python3 scripts/gan-torch.py DIGITS.bin OUT [--epochs 10] [--every 5] [--seed 1] ...
import argparse, json, math, os, struct, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('digits')
p.add_argument('out')
p.add_argument('--seed', type=int, default=1)
p.add_argument('--epochs', type=int, default=10)
p.add_argument('--every', type=int, default=5)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--latent', type=int, default=64)
p.add_argument('--g', type=int, default=64)
p.add_argument('--d', type=int, default=32)
p.add_argument('--lr-d', type=float, default=2e-4)
p.add_argument('--lr-g', type=float, default=2e-4)
p.add_argument('--real', type=float, default=0.9, help='D target for real images (one-sided smoothing)')
p.add_argument('--ema', type=float, default=0.999)
p.add_argument('--d-hidden', type=int, default=0, help='a dense layer of this many units (leaky ReLU) before D\'s logit')
p.add_argument('--d-bn', action='store_true', help='batch norm after D\'s second convolution')
p.add_argument('--tanh', action='store_true', help='G ends in tanh; D sees data in [-1, 1]; samples mapped back to [0, 1]')
p.add_argument('--init', choices=['glorot', 'torch', 'dcgan'], default='glorot',
               help='glorot: as rede; torch: PyTorch defaults; dcgan: N(0, 0.02), BN γ ~ N(1, 0.02)')
p.add_argument('--samples', type=int, default=2000)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True)

def read_split(buf, off):
    (n,) = struct.unpack_from('<I', buf, off)
    off += 4
    x = torch.frombuffer(bytearray(buf[off:off + n * 784]), dtype=torch.uint8).float().div_(255).view(n, 1, 28, 28)
    off += n * 784
    return x, off + n  # labels are not used

buf = open(a.digits, 'rb').read()
xtr, off = read_split(buf, 0)
_, off = read_split(buf, off)
if off != len(buf):
    sys.exit(f'gan-torch: {a.digits} has {len(buf) - off} bytes after the test split, expected 0')
if a.tanh:
    xtr = xtr * 2 - 1

G_CH = 2 * a.g

# Transposed convolution 4×4, stride 2, padding 1 (rede's 'same') as a 3×3 convolution to 4·cout channels and
# a pixel shuffle: this PyTorch's own conv_transpose2d runs on its generic BLAS, ~20× slower here than conv2d
# (oneDNN). Output row 2m + r takes input rows m − 1, m, m + 1 through kernel rows TAPS[r] (4: a zero tap):
#   out[2m] = x[m−1]·W[3] + x[m]·W[1],  out[2m+1] = x[m]·W[2] + x[m+1]·W[0].
# The parameter is ConvTranspose2d's [cin, cout, 4, 4]; checked against F.conv_transpose2d below.
TAPS = torch.tensor([[3, 1, 4], [4, 2, 0]])

class ConvT4x4s2(nn.Module):
    def __init__(self, cin, cout, bias):
        super().__init__()
        ref = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)
        self.weight, self.bias, self.cout = ref.weight, ref.bias, cout
    def forward(self, x):
        cin = self.weight.shape[0]
        wp = F.pad(self.weight, (0, 1, 0, 1))  # [cin, cout, 5, 5], index 4 is 0
        k = torch.stack([wp[:, :, TAPS[ry]][:, :, :, TAPS[rx]] for ry in (0, 1) for rx in (0, 1)], 2)  # [cin, cout, 4, 3, 3]
        k = k.permute(1, 2, 0, 3, 4).reshape(4 * self.cout, cin, 3, 3)
        b = self.bias.repeat_interleave(4) if self.bias is not None else None
        return F.pixel_shuffle(F.conv2d(x, k, b, padding=1), 2)

_t = ConvT4x4s2(3, 2, True); _x = torch.randn(2, 3, 5, 5)
_err = (_t(_x) - F.conv_transpose2d(_x, _t.weight, _t.bias, 2, 1)).abs().max().item()
if _err > 1e-5: sys.exit(f'gan-torch: ConvT4x4s2 differs from conv_transpose2d by {_err}')

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(a.latent, 7 * 7 * G_CH, bias=False)
        self.bn0 = nn.BatchNorm1d(7 * 7 * G_CH)  # rede's BN after the dense layer: one per feature
        self.up1 = ConvT4x4s2(G_CH, a.g, False)
        self.bn1 = nn.BatchNorm2d(a.g)
        self.up2 = ConvT4x4s2(a.g, 1, True)
    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z))).view(-1, G_CH, 7, 7)
        h = F.relu(self.bn1(self.up1(h)))
        h = self.up2(h)
        return torch.tanh(h) if a.tanh else torch.sigmoid(h)

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, a.d, 4, 2, 1)
        self.c2 = nn.Conv2d(a.d, 2 * a.d, 4, 2, 1)
        self.bn = nn.BatchNorm2d(2 * a.d) if a.d_bn else None
        # The hidden dense layer on the 7×7 map is a 7×7 'valid' convolution (the same map, through oneDNN: this
        # PyTorch's dense layers run on a generic BLAS); its fans are the dense layer's (dense_fans).
        self.hidden = nn.Conv2d(2 * a.d, a.d_hidden, 7) if a.d_hidden else None
        if self.hidden is not None: self.hidden.dense_fans = True
        self.fc = nn.Linear(a.d_hidden or 2 * a.d * 49, 1)
    def forward(self, x):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = self.c2(h)
        if self.bn is not None: h = self.bn(h)
        h = F.leaky_relu(h, 0.2)
        if self.hidden is not None: h = F.leaky_relu(self.hidden(h), 0.2)
        return self.fc(h.flatten(1)).squeeze(1)

def init(m):
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, ConvT4x4s2)):
            w = mod.weight
            if a.init == 'glorot':
                # Keras's fans: dense in/out; conv k·k·cin / k·k·cout; convT k·k·cout / k·k·cin (Glorot is symmetric).
                if isinstance(mod, nn.Linear) or getattr(mod, 'dense_fans', False): fi, fo = w[0].numel(), w.shape[0]
                else: fi, fo = w.shape[1] * w.shape[2] * w.shape[3], w.shape[0] * w.shape[2] * w.shape[3]
                lim = math.sqrt(6 / (fi + fo))
                nn.init.uniform_(w, -lim, lim)
                if mod.bias is not None: nn.init.zeros_(mod.bias)
            elif a.init == 'dcgan':
                nn.init.normal_(w, 0, 0.02)
                if mod.bias is not None: nn.init.zeros_(mod.bias)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)) and a.init == 'dcgan':
            nn.init.normal_(mod.weight, 1, 0.02); nn.init.zeros_(mod.bias)

G, D = Generator(), Discriminator()
init(G); init(D)
optD = torch.optim.Adam(D.parameters(), lr=a.lr_d, betas=(0.5, 0.999), eps=1e-8)
optG = torch.optim.Adam(G.parameters(), lr=a.lr_g, betas=(0.5, 0.999), eps=1e-8)
avg = [t.detach().clone() for t in G.parameters()]

gen = torch.Generator().manual_seed(a.seed + 100)
eval_z = torch.randn(a.samples, a.latent, generator=gen)
calib_z = [torch.randn(250, a.latent, generator=gen) for _ in range(20)]

def write_samples(path):
    G.eval()
    with torch.no_grad():
        x = torch.cat([G(eval_z[i:i + 250]) for i in range(0, a.samples, 250)])
    G.train()
    if a.tanh: x = (x + 1) / 2
    x.reshape(-1).numpy().astype('<f4').tofile(path)

def measure(epoch):
    tag = f'e{epoch:02d}'
    if epoch > 0: write_samples(os.path.join(a.out, f'samples-{tag}-last.f32'))
    trained = [t.detach().clone() for t in G.parameters()]
    stats = {k: v.clone() for k, v in G.state_dict().items() if 'running' in k or 'num_batches' in k}
    with torch.no_grad():
        for t, v in zip(G.parameters(), avg): t.copy_(v)
        G.train()
        for z in calib_z: G(z)
    write_samples(os.path.join(a.out, f'samples-{tag}.f32'))
    with torch.no_grad():
        for t, v in zip(G.parameters(), trained): t.copy_(v)
    G.load_state_dict({**G.state_dict(), **stats})

n, B = xtr.shape[0], a.batch
per_epoch = n // B
y_real = torch.full((B,), a.real)
y_d = torch.cat([y_real, torch.zeros(B)])
ones = torch.ones(B)
log = {'args': vars(a), 'epochs': [], 'dLoss': [], 'gLoss': [], 'seconds': []}
t0, step = time.time(), 0
measure(0)
for epoch in range(a.epochs):
    order = torch.randperm(n)
    d_sum = g_sum = 0.0
    for b in range(per_epoch):
        real = xtr[order[b * B:(b + 1) * B]]
        with torch.no_grad():
            fake = G(torch.randn(B, a.latent))  # training mode, as rede's D step
        optD.zero_grad()
        ld = F.binary_cross_entropy_with_logits(D(torch.cat([real, fake])), y_d)
        ld.backward(); optD.step()
        optG.zero_grad()
        lg = F.binary_cross_entropy_with_logits(D(G(torch.randn(B, a.latent))), ones)
        lg.backward(); optG.step()  # only G's parameters move; D's gradients are zeroed before its next step
        k = 1 - min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for t, v in zip(G.parameters(), avg): v.add_(t - v, alpha=k)
        step += 1
        d_sum += ld.item(); g_sum += lg.item()
    log['epochs'].append(epoch + 1); log['dLoss'].append(d_sum / per_epoch); log['gLoss'].append(g_sum / per_epoch)
    log['seconds'].append(time.time() - t0)
    print(f'gan-torch: epoch {epoch + 1}: D loss {d_sum / per_epoch:.4f}, G loss {g_sum / per_epoch:.4f} ({time.time() - t0:.0f} s)', flush=True)
    if (epoch + 1) % a.every == 0 or epoch + 1 == a.epochs:
        measure(epoch + 1)
    with open(os.path.join(a.out, 'log.json'), 'w') as f: json.dump(log, f)
