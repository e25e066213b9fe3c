"""Flatten: merge a range of dimensions into one."""

from .module import Module


class Flatten(Module):
    r"""Flatten dimensions ``start_dim`` through ``end_dim`` into one (a view when possible).

    Shape: input :math:`(*, S_{\text{start}}, \ldots, S_{\text{end}}, *)`, output
    :math:`(*, \prod_{i=\text{start}}^{\text{end}} S_i, *)`. With the defaults, a batch
    :math:`(N, *)` becomes :math:`(N, \prod *)`.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
