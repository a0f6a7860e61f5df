class Size(tuple):
    """torch.Size: a tuple of ints with PyTorch's repr."""

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(int(d)) for d in self) + "])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for d in self:
            n *= int(d)
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))
