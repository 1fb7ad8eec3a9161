"""The learning-rate grid in PyTorch, for `deno task bench`: 8 rates from 0.001 to 0.2 (log-spaced),
each trained from the same initial weights for E epochs on 51,000 MNIST images, batch 64,
SGD(rate, momentum 0.5), NLL on log-softmax, with the validation loss and accuracy after every
epoch, one rate after another as a notebook loop does. Prints one JSON object.

Usage: python3 bench/torch_grid.py DATA_DIR [--epochs E] [--runs N] [--threads N]
"""
import argparse, json, resource, time

import torch
import torch.nn.functional as F

from torch_epoch import load_splits, original_network


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.runs < 2:
        parser.error(f"cannot space the rates: --runs is {args.runs}, expected at least 2")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_train, y_train, x_val, y_val = load_splits(args.data_dir)
    rates = [0.001 * (0.2 / 0.001) ** (i / (args.runs - 1)) for i in range(args.runs)]
    start = time.perf_counter()
    cpu_start = time.process_time()
    final = []
    for rate in rates:
        torch.manual_seed(0)  # the same initial weights and batch order for every rate
        model = original_network()
        optimizer = torch.optim.SGD(model.parameters(), lr=rate, momentum=0.5)
        for _ in range(args.epochs):
            permutation = torch.randperm(len(x_train))
            for begin in range(0, len(x_train), 64):
                index = permutation[begin:begin + 64]
                optimizer.zero_grad()
                loss = F.nll_loss(model(x_train[index]), y_train[index])
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                out = model(x_val)
                val_loss = F.nll_loss(out, y_val).item()
                val_accuracy = (out.argmax(1) == y_val).float().mean().item()
        final.append({"learning_rate": rate, "val_loss": val_loss, "val_accuracy": val_accuracy})
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    print(json.dumps({
        "name": f"pytorch {torch.__version__} loop over {args.runs} rates ({args.threads} thread{'s' if args.threads > 1 else ''})",
        "runs": args.runs,
        "epochs": args.epochs,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "final": final,
    }))


if __name__ == "__main__":
    main()
