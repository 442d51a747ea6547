"""One SGD step on a fixed batch must lower the loss on that batch: the smallest
evidence that a model's forward, backward and parameters are wired together."""
import minitorch_cv as mt
from minitorch_cv import nn, optim


def loss_before_and_after_one_step(model, images, labels, lr, loss_fn=None, seed=0):
    """(loss, loss after one SGD step) on the same batch, in training mode. The random
    draws of the forward (dropout, stochastic depth) are the same in both evaluations:
    the generator is reseeded before each."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.train()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    mt.manual_seed(seed)
    loss = loss_fn(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    mt.manual_seed(seed)
    with mt.no_grad():
        after = loss_fn(model(images), labels)
    return loss.item(), after.item()
