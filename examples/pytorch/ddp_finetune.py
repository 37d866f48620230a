#!/usr/bin/python3
# Continue training a rede model in PyTorch with DistributedDataParallel, then hand it back to rede
# (docs/scale-out.md). DIR is what `rede export --pytorch --out DIR` wrote (model.py, weights.safetensors).
#   torchrun --standalone --nproc_per_node=2 examples/pytorch/ddp_finetune.py DIR [EPOCHS]
# Data: Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist), pixels / 255 as rede reads them, NCHW.
# Writes DIR/finetuned.safetensors: the DDP model's state_dict (keys prefixed 'module.'; rede import drops it).
import gzip
import importlib.util
import struct
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

DATA = '/usr/share/datasets/fashion-mnist'


def idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def main():
    out, epochs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    spec = importlib.util.spec_from_file_location('exported', f'{out}/model.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.RedeModel()
    model.load_state_dict(mod.load_safetensors(f'{out}/weights.safetensors'))
    ddp = DDP(model)
    x = idx(f'{DATA}/train-images-idx3-ubyte.gz').float().div_(255).unsqueeze(1)
    y = idx(f'{DATA}/train-labels-idx1-ubyte.gz').long()
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    batch = 64
    for epoch in range(epochs):
        ddp.train()
        order = torch.randperm(len(y), generator=g)[rank::world]  # this rank's shard, the same permutation on every rank
        total, seen = 0.0, 0
        for i in range(0, len(order) - batch + 1, batch):
            b = order[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x[b]), y[b])  # the exported LeNet-5 ends in logits
            loss.backward()
            opt.step()
            total, seen = total + loss.item() * len(b), seen + len(b)
        if rank == 0:
            print(f'epoch {epoch + 1}: loss {total / seen:.4f} on {seen} examples of rank 0 ({world} ranks)', flush=True)
    if rank == 0:
        xt = idx(f'{DATA}/t10k-images-idx3-ubyte.gz').float().div_(255).unsqueeze(1)
        yt = idx(f'{DATA}/t10k-labels-idx1-ubyte.gz').long()
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(f'test accuracy in PyTorch {acc:.4f}', flush=True)
        mod.save_safetensors(ddp.state_dict(), f'{out}/finetuned.safetensors')
        print(f'wrote {out}/finetuned.safetensors', flush=True)
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
