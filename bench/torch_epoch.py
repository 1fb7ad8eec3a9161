"""The same epoch in PyTorch, for `deno task bench`: 51,000 MNIST images, batch 64, SGD(0.01, 0.5),
NLL on log-softmax, one thread. Prints one JSON object.

Usage: python3 bench/torch_epoch.py DATA_DIR [--epochs N] [--threads N]
"""
import argparse, gzip, json, os, resource, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(folder, name):
    """Reads `name` from `folder`, raw or gzipped, as lib/mnist.ts does."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            with (gzip.open if candidate.endswith(".gz") else open)(path, "rb") as f:
                data = f.read()
            break
    else:
        raise FileNotFoundError(f"no {name} (or {name}.gz) in {folder}")
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_splits(data_dir):
    """MNIST's 60,000 training images in [0, 1], split 51,000 / 9,000 in a seeded random order
    (draws from torch's generator: seed it first). Returns x_train, y_train, x_val, y_val."""
    images = read_idx(data_dir, "train-images-idx3-ubyte")
    labels = read_idx(data_dir, "train-labels-idx1-ubyte")
    x = torch.tensor(images.reshape(-1, 784), dtype=torch.float32) / 255
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(60000)
    return x[order[9000:]], y[order[9000:]], x[order[:9000]], y[order[:9000]]


def original_network():
    """The original's network: linear1 784→128, ReLU, linear2 128→64, ReLU, linear3 64→10."""
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10), nn.LogSoftmax(dim=1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup-steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_train, y_train, _, _ = load_splits(args.data_dir)
    test_images = read_idx(args.data_dir, "t10k-images-idx3-ubyte")
    model = original_network()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)

    def run(steps=None):
        permutation = torch.randperm(len(x_train))
        count = 0
        for start in range(0, len(x_train), 64):
            index = permutation[start:start + 64]
            optimizer.zero_grad()
            loss = F.nll_loss(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
            count += 1
            if steps is not None and count >= steps:
                break
        return count

    run(args.warmup_steps)
    epochs = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        steps = run()
        epochs.append(time.perf_counter() - start)
    test_x = torch.tensor(test_images.reshape(-1, 784), dtype=torch.float32) / 255
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, 10000, 1000):
            model(test_x[i:i + 1000]).exp()
    eval_s = time.perf_counter() - start
    print(json.dumps({
        "name": f"pytorch {torch.__version__} ({args.threads} thread{'s' if args.threads > 1 else ''})",
        "epoch_s": min(epochs),
        "epochs_s": epochs,
        "steps": steps,
        "ms_per_step": 1000 * min(epochs) / steps,
        "samples_per_s": len(x_train) / min(epochs),
        "eval_samples_per_s": 10000 / eval_s,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
