"""A Lightning MLP on two moons, recorded with WeightReelCallback.

    python samples/lightning_mlp.py [OUT] [EPOCHS]    # default: samples/lightning_mlp.h5, 6
"""

import os
import sys

import lightning.pytorch as pl
import torch
from sklearn.datasets import make_moons

from weightreel.recorder.lightning_callback import WeightReelCallback

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "lightning_mlp.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6


class MoonsMLP(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(),
                                       torch.nn.Linear(16, 2))

    def training_step(self, batch, batch_idx):
        return torch.nn.functional.cross_entropy(self.net(batch[0]), batch[1])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.3)


pl.seed_everything(0, verbose=False)
x, y = make_moons(400, noise=0.1, random_state=0)
data = torch.utils.data.TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                     callbacks=[WeightReelCallback(out, notes="Lightning MLP on two moons")])
trainer.fit(MoonsMLP(), torch.utils.data.DataLoader(data, batch_size=32, shuffle=True))
print(f"recorded {out}")
