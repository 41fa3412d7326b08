"""An MLP on the 8x8 digits, written the way PyTorch tutorials write it.

The block between the two marker lines is the only part that names the framework; the test
(tests/test_pytorch_style_script.py) runs this file once with those lines as they are (real
PyTorch) and once with ``torch`` spelled ``minigrad``.  The data comes from ``digits.npz`` in the
working directory (uint8 images (N, 8, 8) in 0..16 and labels (N,)); the last line printed is
``RESULT {...}`` with the measured accuracies.
"""
# --- framework imports: begin ---
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split
# --- framework imports: end ---
import json
import os

import numpy as np

EPOCHS = int(os.environ.get("EPOCHS", "5"))
BATCH_SIZE = 32


class DigitsDataset(Dataset):
    """Images as flat float vectors in [0, 1], with a little noise when ``augment`` is on."""

    def __init__(self, images, labels, augment=False):
        self.images = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 16.0)
        self.labels = torch.tensor(labels, dtype=torch.long)
        self.augment = augment
        self.noise = torch.Generator().manual_seed(7)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        if self.augment:
            image = (image + 0.05 * torch.randn(image.shape, generator=self.noise)).clamp(0.0, 1.0)
        return image, self.labels[idx]


class MLP(nn.Module):
    def __init__(self, in_features=64, hidden=128, num_classes=10, dropout=0.1):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.out(x)


def evaluate(model, loader, criterion, device):
    model.eval()
    total_loss, correct, total = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            outputs = model(x)
            total_loss += criterion(outputs, y).item() * x.size(0)
            _, predicted = torch.max(outputs.data, 1)
            correct += (predicted == y).sum().item()
            total += y.size(0)
    return total_loss / total, correct / total


def main():
    torch.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    np.random.seed(0)
    torch.backends.cudnn.benchmark = True
    device = torch.device(torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu")

    data = np.load("digits.npz")
    images, labels = data["images"], data["labels"]
    full = DigitsDataset(images, labels)
    n_test = len(full) // 5
    train_part, test_part = random_split(full, [len(full) - n_test, n_test],
                                         generator=torch.Generator().manual_seed(42))
    train_set = DigitsDataset(images[train_part.indices], labels[train_part.indices], augment=True)
    test_x = torch.tensor(images[test_part.indices].reshape(n_test, -1) / 16.0, dtype=torch.float32)
    test_y = torch.from_numpy(labels[test_part.indices].astype(np.int64))
    test_set = TensorDataset(test_x, test_y)

    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, num_workers=2,
                              persistent_workers=True, pin_memory=torch.cuda.is_available())
    test_loader = DataLoader(test_set, batch_size=256, shuffle=False)

    model = MLP().to(device)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{n_params} parameters on {device}")
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)

    for epoch in range(EPOCHS):
        model.train()
        running_loss = 0.0
        for batch_idx, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            output = model(x)
            loss = criterion(output, y)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader, criterion, device)
        print(f"epoch {epoch + 1}: train loss {running_loss / len(train_loader):.4f}, "
              f"test loss {test_loss:.4f}, test accuracy {100 * test_acc:.1f}%")

    model.eval()
    with torch.no_grad():
        logits = model(test_x.to(device))
        probs = F.softmax(logits, dim=1)
        accuracy = (logits.argmax(1) == test_y.to(device)).float().mean().item()
    assert torch.allclose(probs.sum(dim=1), torch.ones(n_test, device=device), atol=1e-5)

    torch.save(model.state_dict(), "mlp.pt")
    restored = MLP().to(device)
    restored.load_state_dict(torch.load("mlp.pt", map_location=device, weights_only=True))
    restored.eval()
    with torch.inference_mode():
        same = torch.equal(restored(test_x.to(device)).argmax(dim=1), logits.argmax(dim=1))
    print("RESULT " + json.dumps({"test_accuracy": accuracy, "reloaded_same_predictions": bool(same),
                                  "epochs": EPOCHS}))


if __name__ == "__main__":
    main()
