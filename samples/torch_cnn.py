"""A small PyTorch CNN with BatchNorm on 8x8 digit images, recorded with TorchRecorder.

    python samples/torch_cnn.py [OUT] [EPOCHS]    # default: samples/torch_cnn.h5, 3 epochs
"""

import os
import sys

import torch
from sklearn.datasets import load_digits

from weightreel.recorder import TorchRecorder

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "torch_cnn.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
with TorchRecorder(model, out, optimizer=optimizer, notes="torch CNN on sklearn digits",
                   hyperparameters={"epochs": epochs, "batch_size": 64}) as recorder:
    for epoch in range(epochs):
        recorder.epoch = epoch
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            recorder.log(loss=loss)
            optimizer.step()
print(f"recorded {out}")
