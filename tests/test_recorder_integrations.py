"""The Lightning and Hugging Face Trainer callbacks, with the real libraries on tiny models."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import torch
import transformers

from weightreel.formats import open_recording
from weightreel.recorder.hf_callback import WeightReelTrainerCallback
from weightreel.recorder.lightning_callback import WeightReelCallback


class Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                       torch.nn.Linear(4, 1))

    def training_step(self, batch, batch_idx):
        return torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.02)


class Reference(pl.Callback):
    """state_dict copies at the start and after each optimizer step, by global step."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, np.ndarray]] = {}

    def _take(self, trainer, module):  # the first state seen at each step (micro-batches
        # that follow change BatchNorm's statistics before the next optimizer step)
        if trainer.global_step not in self.rows:
            self.rows[trainer.global_step] = {k: v.detach().clone().numpy()
                                              for k, v in module.state_dict().items()}

    def on_train_start(self, trainer, module):
        self._take(trainer, module)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self._take(trainer, module)


def test_lightning_callback_is_bit_exact_per_optimizer_step(tmp_path):
    data = torch.utils.data.TensorDataset(torch.randn(48, 3), torch.randn(48, 1))
    reference, path = Reference(), tmp_path / "pl.h5"
    trainer = pl.Trainer(max_epochs=2, accumulate_grad_batches=2, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu",
                         callbacks=[WeightReelCallback(path, strict=True), reference])
    trainer.fit(Net(), torch.utils.data.DataLoader(data, batch_size=8))
    rec = open_recording(path)
    assert rec.steps.tolist() == list(range(7))  # 2 epochs x 6 batches / 2 accumulated
    assert rec.epochs.tolist() == [0, 0, 0, 0, 1, 1, 1]
    for i, step in enumerate(rec.steps):
        for key, want in reference.rows[int(step)].items():
            assert rec.read(key.replace(".", "/"), i).tobytes() == want.tobytes(), (key, i)
    assert rec.variables["net/0/weight"].layout == "oi"
    assert np.isfinite(rec.scalar("loss")[1:]).all()
    assert np.allclose(rec.scalar("learning_rate"), 0.02)


def test_hugging_face_trainer_callback_records_each_step(tmp_path):
    config = transformers.BertConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=8,
                                     max_position_embeddings=8, num_labels=2)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    data = [{"input_ids": torch.randint(0, 20, (6,)), "labels": torch.tensor(i % 2)}
            for i in range(16)]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_train_epochs=1,
        learning_rate=0.01, report_to=[], save_strategy="no", use_cpu=True,
        disable_tqdm=True, logging_strategy="no")
    path = tmp_path / "hf.h5"
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data,
                                   callbacks=[WeightReelTrainerCallback(path, strict=True)])
    trainer.train()
    rec = open_recording(path)
    assert rec.steps.tolist() == list(range(5))
    names = rec.variable_names
    assert "bert/embeddings/word_embeddings/weight" in names
    assert "classifier/weight" in names and rec.variables["classifier/weight"].layout == "oi"
    final = {k.replace(".", "/"): v.detach().numpy() for k, v in model.state_dict().items()}
    for name in names:
        assert rec.read(name, rec.num_steps - 1).tobytes() == final[name].tobytes(), name
    first = rec.read("classifier/weight", 0)
    assert not np.array_equal(first, final["classifier/weight"])
    assert rec.scalar("learning_rate")[1] > 0
